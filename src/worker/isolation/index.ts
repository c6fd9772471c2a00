// Isolated job execution: jobs in pooled worker threads or child
// processes, with real timeouts, memory limits and an optional sandbox.

export {
  IsolateCrashError,
  IsolateExitError,
  IsolateMemoryError,
  IsolateStartError,
} from './errors.js';
export {
  ISOLATION_DEFAULTS,
  type IsolationMode,
  type IsolationOptions,
  type ResolvedIsolation,
  type ResolvedSandbox,
  type SandboxOptions,
} from './options.js';
export { defaultReadPaths } from './launch.js';
