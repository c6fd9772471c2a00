// Public API of the duckqueue package.
export { DuckQueue } from './queue/queue.js';
export { Worker } from './worker/worker.js';
export * from './worker/isolation/index.js';
export * from './queue/errors.js';
export {
  DuckDBStoreError,
  StoreFileError,
  StoreLockedError,
} from './store/duckdb/errors.js';
export { StoreLocationError } from './store/location.js';
export * from './dag/index.js';
export {
  createSerializer,
  registerSerializer,
  registerTask,
  registerConfigTask,
  configTask,
  inspectPayload,
} from './serialize/index.js';
export * from './serialize/errors.js';
export type * from './serialize/types.js';
export type { DuckQueueOptions, EnqueueOptions } from './queue/options.js';
export type { JobRecord } from './queue/job.js';
export type { Store } from './store/types.js';
export {
  DEFAULT_DENY_NAMES,
  SignatureError,
  SigningKeyError,
} from './serialize/policy.js';
export type { PolicyOptions, SigningKeyInput } from './serialize/policy.js';
