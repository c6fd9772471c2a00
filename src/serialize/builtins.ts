// Functions exported by Node's own modules ('node:crypto' createHash...)
// are referenced by module and export name, never copied: their source
// lives inside Node. This table answers "which builtin exports this?".

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Builtins worth indexing; loading them has no side effects. */
const INDEXED = [
  'assert', 'buffer', 'child_process', 'crypto', 'dns', 'events', 'fs',
  'fs/promises', 'http', 'https', 'net', 'os', 'path', 'perf_hooks',
  'querystring', 'readline', 'stream', 'stream/promises', 'string_decoder',
  'timers', 'timers/promises', 'url', 'util', 'v8', 'vm', 'worker_threads',
  'zlib',
];

export interface BuiltinExport {
  module: string;
  name: string;
}

let index: Map<unknown, BuiltinExport> | undefined;

/** 'node:crypto' + 'createHash' for `createHash`; undefined otherwise. */
export function builtinExportOf(fn: unknown): BuiltinExport | undefined {
  if (!index) {
    index = new Map();
    for (const name of INDEXED) {
      const exports = require(`node:${name}`) as Record<string, unknown>;
      for (const key of Object.keys(exports)) {
        const value = exports[key];
        if (typeof value === 'function' && !index.has(value)) {
          index.set(value, { module: `node:${name}`, name: key });
        }
      }
    }
  }
  return index.get(fn);
}

let moduleIndex: Map<unknown, string> | undefined;

/** 'node:fs' for the object `require('node:fs')` returns. */
export function builtinModuleOf(value: unknown): string | undefined {
  if (!moduleIndex) {
    moduleIndex = new Map();
    for (const name of INDEXED) {
      moduleIndex.set(require(`node:${name}`), `node:${name}`);
    }
  }
  return moduleIndex.get(value);
}
