// Names that are the platform's, not the program's: JavaScript built-ins
// and the globals Node.js defines. A function that uses them keeps using
// whatever the loading process has (Math stays Math); built-in functions
// captured as values travel as their path ('Math.max').

import vm from 'node:vm';

/** Globals Node.js adds to the language's own. */
const NODE_GLOBALS = [
  'global', 'process', 'Buffer', 'console', 'setTimeout', 'clearTimeout',
  'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate',
  'queueMicrotask', 'structuredClone', 'fetch', 'Request', 'Response',
  'Headers', 'FormData', 'URL', 'URLSearchParams', 'TextEncoder',
  'TextDecoder', 'AbortController', 'AbortSignal', 'Event', 'EventTarget',
  'performance', 'crypto', 'atob', 'btoa', 'Blob', 'BroadcastChannel',
  'MessageChannel', 'MessagePort', 'MessageEvent', 'navigator', 'File',
  'DOMException', 'WebSocket', 'CustomEvent', 'Crypto', 'CryptoKey',
  'SubtleCrypto', 'ReadableStream', 'WritableStream', 'TransformStream',
  'CompressionStream', 'DecompressionStream', 'TextEncoderStream',
  'TextDecoderStream', 'ByteLengthQueuingStrategy', 'CountQueuingStrategy',
  'PerformanceEntry', 'PerformanceMark', 'PerformanceMeasure',
  'PerformanceObserver', 'PerformanceObserverEntryList',
  'PerformanceResourceTiming',
];

let names: Set<string> | undefined;

/** True for names every Node.js process defines by itself. */
export function isBuiltinGlobal(name: string): boolean {
  names ??= new Set([
    ...(vm.runInNewContext('Object.getOwnPropertyNames(globalThis)') as string[]),
    ...NODE_GLOBALS,
  ]);
  return names.has(name);
}

let nativePaths: Map<unknown, string> | undefined;

/**
 * 'Math.max' for Math.max, 'Array.prototype.push' for that function,
 * 'Symbol.iterator' for that symbol; undefined for anything else.
 */
export function builtinPathOf(value: unknown): string | undefined {
  if (!nativePaths) {
    nativePaths = new Map();
    isBuiltinGlobal('');
    for (const name of names!) {
      if (name === 'globalThis' || name === 'global') continue;
      const desc = Object.getOwnPropertyDescriptor(globalThis, name);
      if (!desc || !('value' in desc)) continue;
      index(desc.value, name, 0);
    }
  }
  return nativePaths.get(value);
}

function index(value: unknown, path: string, depth: number): void {
  const isObject =
    (typeof value === 'object' && value !== null) || typeof value === 'function';
  if (!isObject && typeof value !== 'symbol') return;
  if (!nativePaths!.has(value)) nativePaths!.set(value, path);
  if (!isObject || depth >= 2) return;
  for (const key of Reflect.ownKeys(value as object)) {
    if (typeof key !== 'string') continue;
    if (key === 'constructor' || key === 'caller' || key === 'arguments') continue;
    const desc = Object.getOwnPropertyDescriptor(value as object, key);
    if (!desc || !('value' in desc)) continue;
    const child = desc.value;
    const worthIt =
      typeof child === 'function' ||
      typeof child === 'symbol' ||
      (key === 'prototype' && depth === 0) ||
      (typeof child === 'object' && child !== null && depth === 0);
    if (worthIt) index(child, `${path}.${key}`, depth + 1);
  }
}

/** Looks a builtin path up in this process ('Math.max' → Math.max). */
export function resolveBuiltinPath(path: string): unknown {
  let value: unknown = globalThis;
  for (const key of path.split('.')) {
    if (value === null || value === undefined) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
