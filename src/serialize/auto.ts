// The 'auto' backend: by reference when it can ('v8': small, fast, no code
// in the payload), by source when it must ('source': lambdas, closures,
// REPL functions, functions inside arguments). The header records which
// format was written and, on fallback, why v8 was not used.

import { EventEmitter } from 'node:events';
import type { Backend, EncodedCall } from './backend.js';
import { NotSerializableError } from './errors.js';
import type { FallbackEvent } from './metrics.js';
import type { ResolvedSerializerOptions } from './options.js';
import { createSourceBackend, SOURCE_FORMAT } from './source/index.js';
import { createV8Backend, V8_FORMAT } from './v8.js';

export interface AutoBackend extends Backend {
  readonly events: EventEmitter<{ fallback: [FallbackEvent] }>;
}

export function createAutoBackend(options: ResolvedSerializerOptions): AutoBackend {
  const byReference = createV8Backend(options);
  const bySource = createSourceBackend(options);
  const events = new EventEmitter<{ fallback: [FallbackEvent] }>();
  return {
    reads: [V8_FORMAT, SOURCE_FORMAT],
    events,
    encode(call): EncodedCall {
      try {
        return byReference.encode(call);
      } catch (err) {
        if (!(err instanceof NotSerializableError)) throw err;
        const encoded = bySource.encode(call);
        // Kept short: it is stored in every fallback payload. The module
        // location is already in the source body.
        const reason = `${err.path}: ${err.reason.replace(/ \(in [^)]*\)/, '')}`;
        encoded.header = { ...encoded.header, fallbackReason: reason };
        if (events.listenerCount('fallback') > 0) {
          events.emit('fallback', {
            fnName: call.fn.name,
            from: V8_FORMAT,
            to: SOURCE_FORMAT,
            reason,
          });
        }
        return encoded;
      }
    },
    decode(payload) {
      return payload.format === V8_FORMAT
        ? byReference.decode(payload)
        : bySource.decode(payload);
    },
  };
}
