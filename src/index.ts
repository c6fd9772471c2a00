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
export * from './dag/index.js';
export {
  createSerializer,
  registerSerializer,
  registerTask,
  inspectPayload,
} from './serialize/index.js';
export * from './serialize/errors.js';
export type * from './serialize/types.js';
export {
  DEFAULT_DENY_NAMES,
  SignatureError,
  SigningKeyError,
} from './serialize/policy.js';
export type { PolicyOptions, SigningKeyInput } from './serialize/policy.js';
