// Messages between the worker and its isolates, and how errors cross.
// Results travel as node:v8 bytes (Date, Map, Set, BigInt survive);
// errors travel as plain objects, because structured clone keeps only
// built-in error classes and drops `code` and other own properties.

import { serialize } from 'node:v8';
import { PermanentJobError } from '../../queue/errors.js';
import { preview, safeString } from '../../queue/codec.js';
import type { DagJobRow } from '../../dag/store.js';

/** Sent once to a new isolate, before any job. */
export interface InitMessage {
  type: 'init';
  /** The queue's serialization name (fallback for unknown formats). */
  serialization: string;
  serializerOptions: Record<string, unknown>;
  preload: string[];
}

export interface RunMessage {
  type: 'run';
  jobId: string;
  format: string;
  payload: Uint8Array;
}

/** The supervisor's answer to a DagNodeRequest. */
export interface DagNodeMessage {
  type: 'dag-node';
  jobId: string;
  row: DagJobRow | null;
}

export type ToIsolate = InitMessage | RunMessage | DagNodeMessage;

export interface ReadyMessage {
  type: 'ready';
}

export interface InitFailedMessage {
  type: 'init-failed';
  error: WireError;
}

/**
 * A settled job. `stage` says where it failed: 'load' (the payload could
 * not become a call), 'run' (the job threw) or 'encode' (its result
 * cannot be stored).
 */
export type ResultMessage =
  | { type: 'result'; jobId: string; ok: true; value: Uint8Array | null }
  | {
      type: 'result';
      jobId: string;
      ok: false;
      stage: 'load' | 'run' | 'encode';
      error: WireError;
    };

export interface DagNodeRequest {
  type: 'dag-node?';
  jobId: string;
}

/** An uncaught exception or unhandled rejection; the isolate then exits. */
export interface CrashMessage {
  type: 'crash';
  jobId: string | null;
  error: WireError;
}

export type FromIsolate =
  | ReadyMessage
  | InitFailedMessage
  | ResultMessage
  | DagNodeRequest
  | CrashMessage;

/** An error as plain data. */
export interface WireError {
  name: string;
  message: string;
  stack: string | null;
  /** Own properties node:v8 can encode (code, details...). */
  props: Record<string, unknown>;
  cause?: WireError | { value: unknown };
  /** A thrown non-Error value, when it can be encoded. */
  thrown?: { value: unknown };
}

const MAX_CAUSE_DEPTH = 5;

export function toWireError(thrown: unknown, depth = 0): WireError {
  if (!(thrown instanceof Error)) {
    return {
      name: 'NonErrorThrown',
      message: `a non-Error value was thrown: ${preview(thrown)}`,
      stack: null,
      props: {},
      ...(encodable(thrown) ? { thrown: { value: thrown } } : {}),
    };
  }
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(thrown)) {
    if (key === 'name' || key === 'message' || key === 'stack') continue;
    if (key === 'cause') continue;
    const value = (thrown as unknown as Record<string, unknown>)[key];
    if (encodable(value)) props[key] = value;
  }
  // `code` is often a getter or a class field on the prototype chain.
  const code = (thrown as { code?: unknown }).code;
  if (props.code === undefined && encodable(code) && code !== undefined) {
    props.code = code;
  }
  const wire: WireError = {
    name: safeString(thrown.name) || 'Error',
    message: safeString(thrown.message),
    stack: typeof thrown.stack === 'string' ? thrown.stack : null,
    props,
  };
  if ('cause' in thrown && depth < MAX_CAUSE_DEPTH) {
    const cause = thrown.cause;
    wire.cause =
      cause instanceof Error
        ? toWireError(cause, depth + 1)
        : { value: encodable(cause) ? cause : preview(cause) };
  }
  return wire;
}

const BUILT_IN: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/**
 * The error again, on the worker's side: built-in classes come back as
 * themselves, a PermanentJobError as one (so it still skips retries),
 * anything else as an Error carrying the original name, stack and own
 * properties.
 */
export function fromWireError(wire: WireError): unknown {
  if (wire.thrown) return wire.thrown.value;
  const options =
    wire.cause === undefined
      ? undefined
      : {
          cause:
            'value' in wire.cause && !('name' in wire.cause)
              ? wire.cause.value
              : fromWireError(wire.cause as WireError),
        };
  let error: Error;
  if (wire.props.code === 'DQ_PERMANENT') {
    error = new PermanentJobError(wire.message, options);
  } else {
    const Ctor = BUILT_IN[wire.name] ?? Error;
    error = new Ctor(wire.message, options);
  }
  if (error.name !== wire.name) {
    Object.defineProperty(error, 'name', {
      value: wire.name,
      writable: true,
      configurable: true,
    });
  }
  if (wire.stack !== null) error.stack = wire.stack;
  for (const [key, value] of Object.entries(wire.props)) {
    if (key === 'code' && error instanceof PermanentJobError) continue;
    Object.defineProperty(error, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  return error;
}

function encodable(value: unknown): boolean {
  try {
    serialize(value);
    return true;
  } catch {
    return false;
  }
}

