// The configuration-based task pattern: instead of shipping a new function
// for every variation of a job, register one processor and send a plain
// configuration object that says what to do. The json backend can then
// carry every variation without ever evaluating code.
//
//   registerConfigTask('media', {
//     resize: (config: { width: number }, file: string) => ...,
//     crop: (config: { box: number[] }, file: string) => ...,
//   });
//   const media = configTask('media');
//   queue.add(media, [{ op: 'resize', width: 100 }, 'cat.png'], 'json');

import { SerializationError, UnknownOperationError } from './errors.js';
import { registerTask, taskByName } from './task-registry.js';

/** The configuration argument: `op` picks the handler, the rest is data. */
export interface TaskConfig {
  op: string;
  [key: string]: unknown;
}

export type OperationHandler = (config: any, ...args: any[]) => unknown;

/**
 * Registers `name` as a task whose first argument is a TaskConfig and
 * returns the dispatcher function, ready to be enqueued.
 */
export function registerConfigTask(
  name: string,
  handlers: Record<string, OperationHandler>,
): (config: TaskConfig, ...args: unknown[]) => unknown {
  const ops = Object.keys(handlers);
  for (const op of ops) {
    if (typeof handlers[op] !== 'function') {
      throw new SerializationError(
        `registerConfigTask('${name}'): handler '${op}' is not a function`,
      );
    }
  }
  const dispatch = {
    [name](config: TaskConfig, ...args: unknown[]): unknown {
      const op = config?.op;
      if (typeof op !== 'string' || !Object.hasOwn(handlers, op)) {
        throw new UnknownOperationError(name, op, ops);
      }
      return handlers[op]!(config, ...args);
    },
  }[name]!;
  registerTask(name, dispatch);
  return dispatch;
}

/** The dispatcher registered under `name` (UnknownTaskError if none). */
export function configTask(
  name: string,
): (config: TaskConfig, ...args: unknown[]) => unknown {
  return taskByName(name) as (config: TaskConfig, ...args: unknown[]) => unknown;
}
