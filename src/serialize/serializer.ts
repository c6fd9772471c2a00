// Wraps a backend into the public Serializer: writes the envelope, times
// every call, keeps counters and emits events.

import type { Backend } from './backend.js';
import { encodeEnvelope } from './envelope.js';
import { SerializationError } from './errors.js';
import { SerializerMetrics, type SerializerEvents } from './metrics.js';
import type { SerializerStats } from './metrics.js';
import { openPayload } from './open.js';
import type { ResolvedSerializerOptions } from './options.js';
import type { Call, LoadedCall, Serializer } from './types.js';

export class EnvelopeSerializer implements Serializer {
  readonly name: string;
  readonly options: ResolvedSerializerOptions;
  private readonly backend: Backend;
  private readonly metrics: SerializerMetrics;

  constructor(
    name: string,
    backend: Backend,
    options: ResolvedSerializerOptions,
  ) {
    this.name = name;
    this.backend = backend;
    this.options = options;
    this.metrics = new SerializerMetrics(options.slowSerializationMs);
    const forward = (backend as { events?: BackendEvents }).events;
    forward?.on('fallback', (e) => this.metrics.events.emit('fallback', e));
  }

  serialize(call: Call): Uint8Array {
    checkCall(call);
    const started = performance.now();
    const encoded = this.backend.encode(call);
    const { policy } = this.options;
    policy.checkOutgoing(encoded);
    const bytes = encodeEnvelope(encoded, policy.sign);
    const ms = performance.now() - started;
    this.metrics.record(encoded.format, encoded.header.fnName, ms, bytes.length);
    return bytes;
  }

  async deserialize(bytes: Uint8Array): Promise<LoadedCall> {
    const envelope = openPayload(bytes, {
      serializer: this.name,
      reads: this.backend.reads,
      options: this.options,
    });
    return this.backend.decode(envelope);
  }

  /** Subscribes to `slowSerialization` or `fallback` events. */
  on<K extends keyof SerializerEvents>(
    event: K,
    listener: (...args: SerializerEvents[K]) => void,
  ): this {
    this.metrics.events.on(event, listener as never);
    return this;
  }

  off<K extends keyof SerializerEvents>(
    event: K,
    listener: (...args: SerializerEvents[K]) => void,
  ): this {
    this.metrics.events.off(event, listener as never);
    return this;
  }

  /** Per-format counters: count, bytes and total milliseconds. */
  stats(): SerializerStats {
    return this.metrics.snapshot();
  }
}

interface BackendEvents {
  on(
    event: 'fallback',
    listener: (...args: SerializerEvents['fallback']) => void,
  ): unknown;
}

function checkCall(call: Call): void {
  if (typeof call !== 'object' || call === null) {
    throw new SerializationError(
      `serialize() takes { fn, args }, got ${String(call)}`,
    );
  }
  if (typeof call.fn !== 'function') {
    throw new SerializationError(
      `call.fn must be a function, got ${typeof call.fn}`,
    );
  }
  if (!Array.isArray(call.args)) {
    throw new SerializationError(
      `call.args must be an array of arguments, got ${typeof call.args}`,
    );
  }
}
