// What a backend implements. A backend only turns a call into a header and
// a body and back; the envelope, timing and policy checks are done once,
// around every backend, by EnvelopeSerializer (serializer.ts).

import type { OpenedEnvelope } from './envelope.js';
import type { ResolvedSerializerOptions } from './options.js';
import type { Call, LoadedCall, PayloadMeta } from './types.js';

export interface EncodedCall {
  /** Format tag written into the envelope. */
  format: string;
  header: PayloadMeta;
  body: Uint8Array;
}

export interface Backend {
  /** Formats this backend can load; anything else is refused on load. */
  readonly reads: readonly string[];
  /** Synchronous: the queue serializes inside a database transaction. */
  encode(call: Call): EncodedCall;
  decode(payload: OpenedEnvelope): Promise<LoadedCall>;
}

export type BackendFactory = (options: ResolvedSerializerOptions) => Backend;

/**
 * Checks a loader makes on what a payload asks for, before using it. The
 * payload policy implements them; without one, nothing is checked.
 */
export interface LoadChecks {
  /** A module a payload imports or loads its function from. */
  checkModule?(
    ref: { module: string; exportName?: string; where: string },
    use: 'function' | 'import',
  ): void;
  /** Exactly the text about to be compiled. */
  checkSourceCode?(code: string, where: string): void;
  /** A name a payload resolves (a builtin path such as 'Math.max'). */
  checkName?(name: unknown, where: string): void;
}
