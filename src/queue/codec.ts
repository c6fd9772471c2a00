// Results and thrown errors are stored with node:v8 so Date, Map, Set,
// BigInt, typed arrays and cycles survive the round trip. Errors are kept
// twice: as readable text (name, message, stack) that needs no decoding,
// and as the encoded value when it can be encoded.

import { deserialize, serialize } from 'node:v8';
import type { ErrorRow } from '../store/types.js';
import { ResultDecodingError } from './errors.js';

/** Encode a job's return value; undefined is stored as no result. */
export function encodeResult(value: unknown): Uint8Array | null {
  if (value === undefined) return null;
  return serialize(value);
}

export function decodeResult(
  bytes: Uint8Array | null,
  jobId: string,
): unknown {
  if (bytes === null) return undefined;
  try {
    return deserialize(bytes);
  } catch (err) {
    throw new ResultDecodingError(jobId, safeString((err as Error)?.message));
  }
}

// v8 keeps an Error's class for built-ins only and drops extra properties
// (code, details...), so errors are stored as a tagged plain object.
const ERROR_TAG = '__duckqueueError';

interface TaggedError {
  [ERROR_TAG]: 1;
  name: string;
  message: string;
  stack: string | undefined;
  props: Record<string, unknown>;
  cause?: unknown;
}

/** Turn anything thrown into a storable error row. Never throws. */
export function errorRow(thrown: unknown): ErrorRow {
  if (thrown instanceof Error) {
    return {
      name: safeString(thrown.name) || 'Error',
      message: safeString(thrown.message),
      stack: typeof thrown.stack === 'string' ? thrown.stack : null,
      value: tryEncode(tagError(thrown, 0)),
    };
  }
  return {
    name: 'NonErrorThrown',
    message: `a non-Error value was thrown: ${preview(thrown)}`,
    stack: null,
    value: tryEncode(thrown),
  };
}

/** Decode a stored error value; an Error comes back as an Error. */
export function decodeError(row: ErrorRow): unknown {
  if (row.value !== null) {
    try {
      return untag(deserialize(row.value));
    } catch {
      // Fall through to the readable copy.
    }
  }
  const e = new Error(row.message);
  e.name = row.name;
  if (row.stack !== null) e.stack = row.stack;
  return e;
}

// Decoded errors get their built-in class back; others are plain Errors
// carrying the original name.
const BUILT_IN_ERRORS: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

function tagError(e: Error, depth: number): TaggedError {
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(e)) {
    if (key === 'name' || key === 'message' || key === 'stack' || key === 'cause') {
      continue;
    }
    const v = (e as unknown as Record<string, unknown>)[key];
    if (tryEncode(v) !== null) props[key] = v;
  }
  const tagged: TaggedError = {
    [ERROR_TAG]: 1,
    name: safeString(e.name) || 'Error',
    message: safeString(e.message),
    stack: typeof e.stack === 'string' ? e.stack : undefined,
    props,
  };
  if ('cause' in e && depth < 5) {
    tagged.cause =
      e.cause instanceof Error
        ? tagError(e.cause, depth + 1)
        : tryEncode(e.cause) !== null
          ? e.cause
          : preview(e.cause);
  }
  return tagged;
}

function untag(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || !(ERROR_TAG in value)) {
    return value;
  }
  const t = value as TaggedError;
  const Ctor = BUILT_IN_ERRORS[t.name] ?? Error;
  const e = new Ctor(t.message, 'cause' in t ? { cause: untag(t.cause) } : undefined);
  if (e.name !== t.name) e.name = t.name;
  if (t.stack !== undefined) e.stack = t.stack;
  Object.assign(e, t.props);
  return e;
}

function tryEncode(value: unknown): Uint8Array | null {
  try {
    return serialize(value);
  } catch {
    return null;
  }
}

/** String(v) that never throws (a hostile toString cannot break it). */
export function safeString(v: unknown): string {
  try {
    return typeof v === 'string' ? v : String(v ?? '');
  } catch {
    return '';
  }
}

/** A short, never-throwing rendering of a thrown non-Error value. */
export function preview(v: unknown): string {
  try {
    const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
    return s.length > 200 ? `${s.slice(0, 200)}...` : s;
  } catch {
    return Object.prototype.toString.call(v);
  }
}
