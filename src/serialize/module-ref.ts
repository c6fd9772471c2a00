// How a module is named inside a payload, and how it is loaded again.
//
// Files under the project are stored relative to `root` ('./src/jobs.ts')
// so a worker on another checkout path finds them. Files inside
// node_modules are stored as the package specifier that imports them
// ('lodash-es', 'pkg/sub') when the package exports that file. Node
// builtins keep their 'node:' name.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DeserializationError } from './errors.js';

/** Stored module id for a script URL, or undefined if it has no file. */
export function moduleIdFor(url: string, root: string): string | undefined {
  if (url.startsWith('node:')) return url;
  const file = filePathOf(url);
  if (!file) return undefined;
  const fromPackage = packageSpecifierFor(file);
  if (fromPackage) return fromPackage;
  let rel = path.relative(root, file).split(path.sep).join('/');
  if (!rel.startsWith('../')) rel = `./${rel}`;
  return rel;
}

/** Absolute file path for a file: URL or absolute path; else undefined. */
export function filePathOf(url: string): string | undefined {
  if (url.startsWith('file:')) {
    const clean = url.replace(/[?#].*$/, '');
    try {
      return fileURLToPath(clean);
    } catch {
      return undefined;
    }
  }
  if (path.isAbsolute(url)) return url;
  return undefined;
}

export function isRelativeId(id: string): boolean {
  return id.startsWith('./') || id.startsWith('../');
}

const packageJsonCache = new Map<string, PackageJson | null>();

interface PackageJson {
  name?: string;
  main?: string;
  exports?: unknown;
}

function readPackageJson(dir: string): PackageJson | null {
  let pkg = packageJsonCache.get(dir);
  if (pkg === undefined) {
    try {
      pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    } catch {
      pkg = null;
    }
    packageJsonCache.set(dir, pkg ?? null);
  }
  return pkg ?? null;
}

/** 'lodash-es' or 'pkg/sub/file.js' for a file inside node_modules. */
export function packageSpecifierFor(file: string): string | undefined {
  const marker = `${path.sep}node_modules${path.sep}`;
  const at = file.lastIndexOf(marker);
  if (at < 0) return undefined;
  const parts = file.slice(at + marker.length).split(path.sep);
  const nameParts = parts[0]!.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1);
  const pkgDir = file.slice(0, at + marker.length) + nameParts.join(path.sep);
  const pkg = readPackageJson(pkgDir);
  if (!pkg?.name) return undefined;
  const rel = `./${parts.slice(nameParts.length).join('/')}`;
  if (pkg.exports === undefined) {
    const main = `./${(pkg.main ?? 'index.js').replace(/^\.\//, '')}`;
    return rel === main ? pkg.name : `${pkg.name}/${rel.slice(2)}`;
  }
  const subpath = exportedSubpath(pkg.exports, rel);
  if (subpath === undefined) return undefined;
  return subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
}

/** The subpath of a package "exports" map that points at `rel`. */
function exportedSubpath(exports: unknown, rel: string): string | undefined {
  const entries: [string, unknown][] =
    typeof exports === 'string' || Array.isArray(exports) || !hasSubpathKeys(exports)
      ? [['.', exports]]
      : Object.entries(exports as Record<string, unknown>);
  for (const [key, target] of entries) {
    if (targets(target).includes(rel)) return key;
  }
  return undefined;
}

function hasSubpathKeys(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.keys(value).some((k) => k.startsWith('.'))
  );
}

/** Every file a conditional export target can point at. */
function targets(target: unknown): string[] {
  if (typeof target === 'string') return [target];
  if (Array.isArray(target)) return target.flatMap(targets);
  if (typeof target === 'object' && target !== null) {
    return Object.values(target).flatMap(targets);
  }
  return [];
}

const moduleCache = new Map<string, Promise<Record<string, unknown>>>();

/** Imports a stored module id; repeated loads share one import. */
export function importModule(
  id: string,
  root: string,
): Promise<Record<string, unknown>> {
  const key = isRelativeId(id) ? path.resolve(root, id) : id;
  let loading = moduleCache.get(key);
  if (!loading) {
    loading = importUncached(id, key, root);
    moduleCache.set(key, loading);
    loading.catch(() => moduleCache.delete(key));
  }
  return loading;
}

async function importUncached(
  id: string,
  key: string,
  root: string,
): Promise<Record<string, unknown>> {
  if (isRelativeId(id)) {
    try {
      return await import(pathToFileURL(key).href);
    } catch (cause) {
      throw cannotImport(id, `${key} (from root ${root})`, cause);
    }
  }
  try {
    return await import(id);
  } catch (first) {
    // The package may be installed for the project but not next to
    // duckqueue itself: resolve it from the project root instead.
    let resolved: string;
    try {
      resolved = createRequire(path.join(root, 'package.json')).resolve(id);
    } catch {
      throw cannotImport(id, id, first);
    }
    try {
      return await import(pathToFileURL(resolved).href);
    } catch (cause) {
      throw cannotImport(id, resolved, cause);
    }
  }
}

function cannotImport(
  id: string,
  where: string,
  cause: unknown,
): DeserializationError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new DeserializationError(
    `cannot import module '${id}' (${where}): ${why}. The worker must ` +
      'run from a checkout with the same files and packages as the ' +
      "producer, with the same 'root' option (`duckqueue worker " +
      "--root <dir>`; default: the working directory) and tsx for .ts " +
      'files.',
    { cause },
  );
}
