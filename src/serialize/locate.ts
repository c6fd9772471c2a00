// Finds, from a function object alone, the module that exports it and the
// export name: what `pickle` does for Python functions. The user never
// names the module. See inspector.ts for how the location is read.

import { createRequire } from 'node:module';
import { builtinExportOf } from './builtins.js';
import { NotSerializableError } from './errors.js';
import { getInspector, type SourceLocation } from './inspector.js';
import { filePathOf, moduleIdFor } from './module-ref.js';
import { isFunctionLike, parsedScript } from './script-analysis.js';

const require = createRequire(import.meta.url);

export interface ExportRef {
  module: string;
  exportName: string;
}

const BY_REFERENCE_ADVICE =
  "Export it from a module file, or register it with registerTask(name, " +
  "fn) and use the 'json' serializer, or use 'source' to ship its code.";

interface CacheEntry {
  root: string;
  result: ExportRef | NotSerializableError;
}

const cache = new WeakMap<Function, CacheEntry>();

/**
 * The module and export a function is importable as. Throws
 * NotSerializableError (with the reason) for lambdas, nested and
 * non-exported functions, REPL functions, bound and native functions.
 * Results, failures included, are cached per function object.
 */
export function locateExport(
  fn: Function,
  root: string,
  path = 'fn',
): ExportRef {
  let entry = cache.get(fn);
  if (!entry || entry.root !== root) {
    let result: ExportRef | NotSerializableError;
    try {
      result = locateUncached(fn, root);
    } catch (err) {
      if (!(err instanceof NotSerializableError)) throw err;
      result = err;
    } finally {
      getInspector().releaseTemporaries();
    }
    entry = { root, result };
    cache.set(fn, entry);
  }
  if (entry.result instanceof NotSerializableError) {
    if (path === entry.result.path) throw entry.result;
    throw new NotSerializableError(path, entry.result.reason, entry.result.advice);
  }
  return entry.result;
}

function refuse(path: string, reason: string): NotSerializableError {
  return new NotSerializableError(path, reason, BY_REFERENCE_ADVICE);
}

function label(fn: Function): string {
  return fn.name ? `function '${fn.name}'` : 'anonymous function';
}

function locateUncached(fn: Function, root: string): ExportRef {
  const builtin = builtinExportOf(fn);
  if (builtin) return { module: builtin.module, exportName: builtin.name };
  const inspector = getInspector();
  const remote = inspector.remote(fn);
  const facts = inspector.functionFacts(remote.objectId!);
  if (facts.bound) {
    throw refuse('fn', `${label(fn)} is a bound function, not a module export`);
  }
  if (!facts.location) {
    throw refuse('fn', `${label(fn)} is native code with no module`);
  }
  const url = inspector.scriptUrl(facts.location.scriptId);
  const file = filePathOf(url);
  if (url.startsWith('node:')) {
    throw refuse('fn', `${label(fn)} is internal to Node.js (${url})`);
  }
  if (!file) {
    throw refuse(
      'fn',
      `${label(fn)} was defined in a script with no file (REPL, node -e ` +
        `or eval: '${url || 'anonymous'}')`,
    );
  }
  const moduleId = moduleIdFor(url, root)!;
  // Lines are left out: loaders such as tsx compile a file to one line.
  const where = `in ${moduleId}`;
  const cjs = require.cache[file];
  if (cjs) {
    const exports = cjs.exports as unknown;
    if (exports === fn) return { module: moduleId, exportName: 'default' };
    if (typeof exports === 'object' && exports !== null) {
      for (const key of Object.keys(exports)) {
        if ((exports as Record<string, unknown>)[key] === fn) {
          return { module: moduleId, exportName: key };
        }
      }
    }
    throw refuse('fn', `${label(fn)} (${where}) is not in module.exports`);
  }
  return fromModuleSource(fn, facts.scopesId, facts.location, url, moduleId, where);
}

/**
 * A function made by a factory (`export const handler = wrap(run)`) is
 * not at an exported location, but an exported binding of the module it
 * was made in may hold it: read that module's bindings and compare.
 */
function exportHoldingValue(
  fn: Function,
  scopesId: string | undefined,
  localExports: Map<string, string[]>,
): string | undefined {
  if (!scopesId || localExports.size === 0) return undefined;
  const inspector = getInspector();
  const moduleScope = inspector.scopeChain(scopesId).find((s) => s.type === 'module');
  if (!moduleScope) return undefined;
  const candidates = inspector
    .ownProperties(moduleScope.objectId)
    .filter((v) => localExports.has(v.name) && v.value.type === 'function');
  const values = inspector.values(candidates.map((c) => c.value));
  const at = values.findIndex((v) => v === fn);
  return at < 0 ? undefined : localExports.get(candidates[at]!.name)![0];
}

function fromModuleSource(
  fn: Function,
  scopesId: string | undefined,
  location: SourceLocation,
  url: string,
  moduleId: string,
  where: string,
): ExportRef {
  const inspector = getInspector();
  const script = parsedScript(location.scriptId, () => ({
    source: inspector.scriptSource(location.scriptId),
    url,
  }));
  const site = script.functionAt(script.offsetOf(location.line, location.column));
  const names = site && script.exports().get(site.node);
  if (names) return { module: moduleId, exportName: names[0]! };
  const byValue = exportHoldingValue(fn, scopesId, script.localExports());
  if (byValue) return { module: moduleId, exportName: byValue };
  const kind =
    site?.node.type === 'ArrowFunctionExpression' ? 'arrow function' : label(fn);
  if (site && site.ancestors.some(isFunctionLike)) {
    throw refuse(
      'fn',
      `${kind} (${where}) is defined inside another function or class, ` +
        'so no module exports it',
    );
  }
  throw refuse('fn', `${kind} (${where}) is not exported from its module`);
}
