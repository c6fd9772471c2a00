// Named tasks: a function registered under a name travels as that name.
// The 'json' backend uses only this; 'v8' and 'auto' use it first when the
// function is registered. Producer and worker register the same names.

import { SerializationError, UnknownTaskError } from './errors.js';

type Task = (...args: any[]) => unknown;

const byName = new Map<string, Task>();
const byFunction = new Map<Task, string>();

const NAME_PATTERN = /^[^\s]{1,200}$/;

/** Registers `fn` under `name`. Registering the same pair again is a no-op. */
export function registerTask(name: string, fn: Task): void {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new SerializationError(
      `task name must be 1-200 characters without spaces, got ${JSON.stringify(name)}`,
    );
  }
  if (typeof fn !== 'function') {
    throw new SerializationError(
      `registerTask('${name}', fn): fn must be a function, got ${typeof fn}`,
    );
  }
  const existing = byName.get(name);
  if (existing && existing !== fn) {
    throw new SerializationError(
      `task '${name}' is already registered to another function; pick ` +
        'another name or unregisterTask() the old one first',
    );
  }
  byName.set(name, fn);
  if (!byFunction.has(fn)) byFunction.set(fn, name);
}

/** Removes a task; returns whether it was registered. */
export function unregisterTask(name: string): boolean {
  const fn = byName.get(name);
  if (!fn) return false;
  byName.delete(name);
  if (byFunction.get(fn) === name) {
    byFunction.delete(fn);
    for (const [other, f] of byName) {
      if (f === fn) {
        byFunction.set(fn, other);
        break;
      }
    }
  }
  return true;
}

/** The name `fn` is registered under, if any. */
export function taskNameOf(fn: Function): string | undefined {
  return byFunction.get(fn as Task);
}

/** The registered function, or UnknownTaskError listing what is known. */
export function taskByName(name: string): Task {
  const fn = byName.get(name);
  if (!fn) throw new UnknownTaskError(name, registeredTaskNames());
  return fn;
}

export function registeredTaskNames(): string[] {
  return [...byName.keys()].sort();
}
