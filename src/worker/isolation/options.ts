// Isolation options of a Worker: where jobs run, how much memory they get,
// and what a sandboxed child process may touch. Defaults live here.

import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidOptionError } from '../../queue/errors.js';
import {
  checkKnownKeys,
  checkWholeNumber,
  describe,
} from '../../queue/options.js';

/**
 * Where a job runs.
 * - 'none': in the worker's own event loop (fastest; a job that blocks
 *   the loop blocks the worker, and timeoutMs cannot stop it).
 * - 'thread': in a pooled worker thread of this process.
 * - 'process': in a pooled child process (optionally sandboxed).
 */
export type IsolationMode = 'none' | 'thread' | 'process';

export const ISOLATION_MODES: readonly IsolationMode[] = [
  'none',
  'thread',
  'process',
];

/**
 * What a sandboxed child process may do, through Node 20's experimental
 * permission model (`--experimental-permission`). Everything not allowed
 * here fails with ERR_ACCESS_DENIED inside the job.
 *
 * Caveat: this limits JavaScript in the child, nothing else. Network
 * access is not restricted in Node 20; native addons bypass it; it is
 * experimental. See SECURITY notes in src/worker/isolation/sandbox.ts.
 */
export interface SandboxOptions {
  /**
   * Extra paths the job may read, or true for any. What the child needs
   * to start is always readable (see defaultReadPaths in sandbox.ts):
   * the duckqueue package, the working directory (its modules and
   * node_modules) and the serializer root. Default [].
   */
  allowFsRead?: readonly string[] | true;
  /** Paths the job may write, or true for any. Default [] (none). */
  allowFsWrite?: readonly string[] | true;
  /** May the job start child processes. Default false. */
  allowChildProcess?: boolean;
  /**
   * May the job start worker threads. Default false. Caveat: when the
   * worker runs from TypeScript sources, the child's TypeScript loader
   * runs on a module-hooks thread, which needs this permission; it is
   * then granted (threads inherit the same fs and process limits).
   */
  allowWorker?: boolean;
}

export interface ResolvedSandbox {
  allowFsRead: readonly string[] | true;
  allowFsWrite: readonly string[] | true;
  allowChildProcess: boolean;
  allowWorker: boolean;
}

/** The isolation-related Worker options, as given. */
export interface IsolationOptions {
  /** Default 'none' (see ISOLATION_DEFAULTS for why). */
  isolation?: IsolationMode;
  /**
   * Old-generation heap limit per isolate, in MB: resourceLimits for
   * threads, --max-old-space-size for processes. A job that exceeds it
   * fails with IsolateMemoryError. Default null (V8's own limit).
   * Refused with isolation 'none', where there is no isolate to limit.
   */
  memoryLimitMb?: number | null;
  /** Only with isolation 'process'. Default: no sandbox. */
  sandbox?: SandboxOptions | false;
  /**
   * Modules every isolate imports once when it starts, before any job:
   * paths (relative to the working directory) or package names (found
   * from the duckqueue package, so give app modules as paths). Use it
   * for modules that call registerTask() for 'json' jobs. A path that
   * names no file is refused when the Worker is created; a module that
   * cannot be imported makes run() reject before any job is claimed.
   * Default [].
   */
  preload?: readonly string[];
}

export interface ResolvedIsolation {
  mode: IsolationMode;
  memoryLimitMb: number | null;
  sandbox: ResolvedSandbox | null;
  /** Absolute file URLs or bare package names. */
  preload: string[];
}

/**
 * 'none' is the default, because isolation costs more than a short job
 * does. Measured by suites/isolation.ts (quick mode, no-op 'v8' jobs on
 * SQLite, one worker, concurrency 1, a busy 2-core machine; three runs),
 * as ratios to the in-process worker in the same rounds:
 * - thread: 0.46-0.67x the jobs/s of 'none', 1.7-2.2x the time per job
 *   (+0.16-0.54 ms per job); a new pool's first job 0.8-1.5 s.
 * - process: 0.28-0.41x the jobs/s, 2.5-3.8x the time per job
 *   (+0.19-0.70 ms per job); first job 0.9-1.9 s.
 * - sandboxed process: 0.33-0.58x the jobs/s (the same steady state as
 *   'process' within the noise); first job 5-13 s when run from
 *   TypeScript sources (the in-thread TypeScript loader), far less from
 *   compiled dist/.
 * Choose 'thread' or 'process' for jobs that may hang, leak or come from
 * producers you do not fully trust, not for short trusted jobs.
 */
export const ISOLATION_DEFAULTS = {
  isolation: 'none',
  memoryLimitMb: null,
} as const;

export const ISOLATION_OPTION_NAMES = [
  'isolation',
  'memoryLimitMb',
  'sandbox',
  'preload',
] as const;

const SANDBOX_KEYS = [
  'allowFsRead',
  'allowFsWrite',
  'allowChildProcess',
  'allowWorker',
] as const;

export function resolveIsolation(o: IsolationOptions): ResolvedIsolation {
  const mode = o.isolation ?? ISOLATION_DEFAULTS.isolation;
  if (!ISOLATION_MODES.includes(mode)) {
    throw new InvalidOptionError(
      'isolation',
      `expected 'none', 'thread' or 'process', got ${describe(mode)}`,
    );
  }
  const limit = o.memoryLimitMb ?? ISOLATION_DEFAULTS.memoryLimitMb;
  const memoryLimitMb =
    limit === null ? null : checkWholeNumber('memoryLimitMb', limit, 16, 1 << 20);
  let sandbox: ResolvedSandbox | null = null;
  if (o.sandbox !== undefined && o.sandbox !== false) {
    if (mode !== 'process') {
      throw new InvalidOptionError(
        'sandbox',
        `needs isolation 'process' (got ${describe(mode)}): the permission ` +
          'model applies to a whole process, not to a thread',
      );
    }
    sandbox = resolveSandbox(o.sandbox);
  }
  const preload = o.preload ?? [];
  if (!Array.isArray(preload)) {
    throw new InvalidOptionError(
      'preload',
      'expected a list of module paths or package names, got ' +
        describe(preload),
    );
  }
  return {
    mode,
    memoryLimitMb,
    sandbox,
    preload: preload.map((p, i) => preloadSpecifier(`preload[${i}]`, p)),
  };
}

function resolveSandbox(s: SandboxOptions): ResolvedSandbox {
  if (typeof s !== 'object' || s === null) {
    throw new InvalidOptionError(
      'sandbox',
      `expected { allowFsRead, allowFsWrite, allowChildProcess, allowWorker } ` +
        `or false, got ${describe(s)}`,
    );
  }
  checkKnownKeys('sandbox', s, SANDBOX_KEYS);
  return {
    allowFsRead: pathList('sandbox.allowFsRead', s.allowFsRead),
    allowFsWrite: pathList('sandbox.allowFsWrite', s.allowFsWrite),
    allowChildProcess: flag('sandbox.allowChildProcess', s.allowChildProcess),
    allowWorker: flag('sandbox.allowWorker', s.allowWorker),
  };
}

function pathList(
  option: string,
  value: readonly string[] | true | undefined,
): readonly string[] | true {
  if (value === undefined) return [];
  if (value === true) return true;
  if (!Array.isArray(value)) {
    throw new InvalidOptionError(
      option,
      `expected a list of paths or true (any path), got ${describe(value)}`,
    );
  }
  return value.map((p, i) => {
    if (typeof p !== 'string' || p === '' || p.includes(',')) {
      throw new InvalidOptionError(
        `${option}[${i}]`,
        `expected a path without commas, got ${describe(p)}`,
      );
    }
    return path.resolve(p);
  });
}

function flag(option: string, value: boolean | undefined): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') {
    throw new InvalidOptionError(
      option,
      `expected true or false, got ${describe(value)}`,
    );
  }
  return value;
}

function preloadSpecifier(option: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new InvalidOptionError(
      option,
      `expected a module path or package name, got ${describe(value)}`,
    );
  }
  if (value.startsWith('file:')) {
    let file: string;
    try {
      file = fileURLToPath(value);
    } catch {
      throw new InvalidOptionError(
        option,
        `${describe(value)} is not a file: URL of a local file`,
      );
    }
    checkPreloadFile(option, value, file);
    return value;
  }
  // A file that exists is a path (relative to the working directory);
  // anything else is left to module resolution as a package name (an
  // isolate that cannot import it fails to start, before any claim).
  const isPath =
    value.startsWith('.') ||
    path.isAbsolute(value) ||
    existsSync(path.resolve(value));
  if (!isPath) return value;
  checkPreloadFile(option, value, path.resolve(value));
  return pathToFileURL(path.resolve(value)).href;
}

// Each isolate imports its preload modules when it starts: a missing file
// would fail every isolate, and with them every job the worker claims.
function checkPreloadFile(option: string, value: string, file: string): void {
  if (!existsSync(file)) {
    const relative = path.isAbsolute(value) || value.startsWith('file:')
      ? ''
      : `, relative to the working directory ${process.cwd()}`;
    throw new InvalidOptionError(
      option,
      `no file at ${file} (${describe(value)}${relative}); fix the path, ` +
        'or give an installed package by its name',
    );
  }
  if (!statSync(file).isFile()) {
    throw new InvalidOptionError(
      option,
      `${file} (${describe(value)}) is a directory, not a module file; ` +
        'name the file to import, e.g. its index.js',
    );
  }
}
