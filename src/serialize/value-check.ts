// Finds the first value in a call's arguments that a data-only backend
// would drop or silently change, and says where it is (`args[0].onDone`).
// Cloning code would otherwise turn a class instance into a plain object or
// drop a callback without a word.

import { types } from 'node:util';
import { NotSerializableError } from './errors.js';

export type DataFormat = 'v8' | 'json';

const NATIVE_ERRORS: Function[] = [
  Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError,
];

const SOURCE_ADVICE =
  "Pass plain data, or use the 'source' serializer, which carries " +
  'functions and class instances inside arguments.';

/** Throws NotSerializableError for the first unsupported value. */
export function checkData(value: unknown, path: string, format: DataFormat): void {
  const problem = findProblem(value, path, format, new Set());
  if (problem) {
    throw new NotSerializableError(problem.path, problem.reason, problem.advice);
  }
}

interface Problem {
  path: string;
  reason: string;
  advice: string;
}

function findProblem(
  value: unknown,
  path: string,
  format: DataFormat,
  seen: Set<object>,
): Problem | undefined {
  const t = typeof value;
  if (t === 'function') {
    const name = (value as Function).name;
    return {
      path,
      reason: `it is a function${name ? ` ('${name}')` : ''}`,
      advice: SOURCE_ADVICE,
    };
  }
  if (t === 'symbol') {
    return { path, reason: 'it is a symbol', advice: 'Pass a string instead.' };
  }
  if (t !== 'object' || value === null) return undefined;
  const obj = value as object;
  if (seen.has(obj)) return undefined;
  seen.add(obj);
  const kind = unsupportedKind(obj, format);
  if (kind) return { path, reason: kind.reason, advice: kind.advice };
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      const p = findProblem(obj[i], `${path}[${i}]`, format, seen);
      if (p) return p;
    }
    return undefined;
  }
  if (obj instanceof Map) {
    for (const [k, v] of obj) {
      const p =
        findProblem(k, `${path}.keys()`, format, seen) ??
        findProblem(v, `${path}.get(${keyLabel(k)})`, format, seen);
      if (p) return p;
    }
    return undefined;
  }
  if (obj instanceof Set) {
    for (const v of obj) {
      const p = findProblem(v, `${path}.values()`, format, seen);
      if (p) return p;
    }
    return undefined;
  }
  if (!isPlain(obj)) return undefined;
  const symbol = Object.getOwnPropertySymbols(obj)[0];
  if (symbol !== undefined) {
    // node:v8 and superjson both drop symbol keys without a word.
    return {
      path: `${path}[${String(symbol)}]`,
      reason: 'it is a symbol-keyed property, which no format carries',
      advice: 'Use a string key instead.',
    };
  }
  for (const key of Object.keys(obj)) {
    const p = findProblem(
      (obj as Record<string, unknown>)[key],
      `${path}${propertyLabel(key)}`,
      format,
      seen,
    );
    if (p) return p;
  }
  return undefined;
}

function isPlain(obj: object): boolean {
  const proto = Object.getPrototypeOf(obj);
  return proto === Object.prototype || proto === null;
}

function unsupportedKind(
  obj: object,
  format: DataFormat,
): { reason: string; advice: string } | undefined {
  if (types.isProxy(obj)) {
    return { reason: 'it is a Proxy', advice: 'Pass the target object instead.' };
  }
  if (isPlain(obj) || Array.isArray(obj)) return undefined;
  if (obj instanceof Map || obj instanceof Set) return undefined;
  if (types.isDate(obj) || types.isRegExp(obj)) return undefined;
  const proto = Object.getPrototypeOf(obj);
  if (types.isNativeError(obj) || obj instanceof Error) {
    if (format === 'v8' && NATIVE_ERRORS.includes(proto.constructor)) {
      return undefined;
    }
    if (format === 'json' && proto === Error.prototype) return undefined;
    return {
      reason: `it is a ${proto.constructor?.name ?? 'custom'} error, which ` +
        'would arrive as a plain Error',
      advice: 'Pass its message and fields as plain data.',
    };
  }
  if (format === 'v8') {
    if (types.isAnyArrayBuffer(obj) || ArrayBuffer.isView(obj)) return undefined;
    if (types.isBoxedPrimitive(obj)) return undefined;
  } else {
    if (types.isTypedArray(obj) && !Buffer.isBuffer(obj)) return undefined;
    if (obj instanceof URL) return undefined;
    if (Buffer.isBuffer(obj) || types.isAnyArrayBuffer(obj) || types.isDataView(obj)) {
      return {
        reason: 'it is binary data the json format does not carry',
        advice: "Pass a Uint8Array, or use the 'v8' serializer.",
      };
    }
  }
  if (
    types.isWeakMap(obj) || types.isWeakSet(obj) || obj instanceof WeakRef
  ) {
    return {
      reason: `it is a ${proto.constructor.name}, whose contents cannot be read`,
      advice: 'Pass the data it holds as a Map or plain object.',
    };
  }
  if (types.isPromise(obj)) {
    return {
      reason: 'it is a Promise',
      advice: 'Await it and pass the result instead.',
    };
  }
  const name = proto?.constructor?.name || 'an unnamed class';
  return {
    reason: `it is an instance of ${name}, which would arrive as a plain ` +
      'object without its class (or cannot be copied at all if it holds a ' +
      'socket, stream or other handle)',
    advice: SOURCE_ADVICE,
  };
}

function propertyLabel(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function keyLabel(key: unknown): string {
  if (typeof key === 'string') return JSON.stringify(key);
  if (typeof key === 'number' || typeof key === 'boolean') return String(key);
  return '…';
}
