// The contract every serializer backend meets. The queue, the worker and the
// benchmark suites talk to backends only through these types.

/** A function call to be stored: the function and its arguments. */
export interface Call {
  fn: (...args: any[]) => unknown;
  args: unknown[];
}

/** What a backend returns when it turns bytes back into a call. */
export interface LoadedCall extends Call {
  /** The backend format that produced the bytes, e.g. 'v8' or 'source'. */
  format: string;
  meta: PayloadMeta;
}

/** Facts about a payload that can be read without running any of it. */
export interface PayloadMeta {
  /** The function's name as the producer saw it ('' for anonymous). */
  fnName: string;
  /** Module specifier or root-relative path for by-reference payloads. */
  module?: string;
  /** Export name or registry name the function is found by on load. */
  exportName?: string;
  /** Set by `auto`: why the first choice was not used. */
  fallbackReason?: string;
  [key: string]: unknown;
}

/** `inspectPayload(bytes)`: the envelope's header, decoded without running. */
export interface PayloadInfo {
  format: string;
  version: number;
  fnName: string;
  module?: string;
  signed: boolean;
  bytes: number;
  meta: PayloadMeta;
}

export interface Serializer {
  /** The backend name ('v8', 'json', 'source', 'auto' or a custom one). */
  readonly name: string;
  /** Synchronous so it can run inside a database transaction. */
  serialize(call: Call): Uint8Array;
  /** Async because by-reference loading imports modules. */
  deserialize(bytes: Uint8Array): Promise<LoadedCall>;
}

/** Built-in backend names plus the queue-friendly aliases. */
export type SerializationName =
  | 'v8'
  | 'json'
  | 'source'
  | 'auto'
  | 'pickle'
  | 'cloudpickle'
  | (string & {});
