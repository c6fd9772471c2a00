// How isolates are started: the entry module, the loader it needs when
// the worker runs from TypeScript sources, and the Node flags for memory
// limits and the sandbox.

import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ResolvedSandbox } from './options.js';

const HERE = import.meta.url;

/** True when this module is a .ts file (tsx, vitest), false in dist/. */
export const FROM_SOURCE = /\.ts$/.test(new URL(HERE).pathname);

/**
 * True when isolates need a TypeScript loader: duckqueue itself runs from
 * .ts sources, or the worker process runs under tsx, so job modules may
 * be .ts files that only tsx can load.
 */
export const TYPESCRIPT_JOBS =
  FROM_SOURCE ||
  process.execArgv.some((arg) => /(^|[\\/])tsx([\\/]|$)/.test(arg));

/** The isolate entry module for a mode, as a file URL. */
export function entryUrl(kind: 'thread' | 'process'): URL {
  const ext = FROM_SOURCE ? 'ts' : 'js';
  return new URL(`./${kind}-entry.${ext}`, HERE);
}

/** tsx's module-hooks API, for threads started from sources. */
export function tsxApiUrl(): string {
  const require = createRequire(HERE);
  const pkg = require.resolve('tsx/package.json');
  return pathToFileURL(path.join(path.dirname(pkg), 'dist/esm/api/index.mjs'))
    .href;
}

/** tsx's loader, for `--import` in unsandboxed child processes. */
export function tsxLoaderUrl(): string {
  const require = createRequire(HERE);
  const pkg = require.resolve('tsx/package.json');
  return pathToFileURL(path.join(path.dirname(pkg), 'dist/loader.mjs')).href;
}

/**
 * The loader for sandboxed child processes. tsx compiles through an
 * esbuild service process, which a sandboxed child may not start; these
 * hooks compile in-thread with TypeScript instead.
 */
export function sandboxLoaderUrl(): string {
  return new URL('./typescript-register.mjs', HERE).href;
}

/** The directory holding duckqueue's package.json. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(HERE));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) return path.dirname(fileURLToPath(HERE));
    dir = up;
  }
  return dir;
}

/**
 * What a sandboxed child may always read, so it can start and load jobs:
 * the duckqueue package (its code, node_modules, the TypeScript loader),
 * the working directory (the app's modules and node_modules, where
 * by-reference payloads point) and the serializer root. The real paths
 * of these and of their node_modules are added beside them, since
 * modules load from real paths. Links to anywhere else need allowFsRead.
 */
export function defaultReadPaths(serializerRoot?: string): string[] {
  const paths = [packageRoot(), process.cwd()];
  if (serializerRoot) paths.push(path.resolve(serializerRoot));
  const all = new Set<string>();
  for (const p of paths) {
    all.add(p);
    // Modules load from their real paths: a symlinked node_modules (or a
    // linked checkout) must be readable where it really is.
    for (const linked of [p, path.join(p, 'node_modules')]) {
      try {
        all.add(realpathSync(linked));
      } catch {
        // A missing path is simply not readable.
      }
    }
  }
  return [...all];
}

/** The child flags that turn the permission model on. */
export function sandboxFlags(
  sandbox: ResolvedSandbox,
  readPaths: readonly string[],
): string[] {
  const flags = ['--experimental-permission'];
  if (sandbox.allowFsRead === true) {
    flags.push('--allow-fs-read=*');
  } else {
    // Node 20.20 takes one path per flag; a comma list is refused.
    const reads = new Set([...readPaths, ...sandbox.allowFsRead]);
    for (const p of reads) flags.push(`--allow-fs-read=${p}`);
  }
  if (sandbox.allowFsWrite === true) {
    flags.push('--allow-fs-write=*');
  } else {
    for (const p of sandbox.allowFsWrite) flags.push(`--allow-fs-write=${p}`);
  }
  if (sandbox.allowChildProcess) flags.push('--allow-child-process');
  // The TypeScript loader's hooks run on a thread of their own.
  if (sandbox.allowWorker || TYPESCRIPT_JOBS) flags.push('--allow-worker');
  flags.push('--disable-warning=ExperimentalWarning');
  if (!sandbox.allowWorker) flags.push('--disable-warning=SecurityWarning');
  return flags;
}
