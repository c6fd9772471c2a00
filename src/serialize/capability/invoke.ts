// How a capability cell is run and how results are compared. The producer
// (with the original function) and every consumer (with the loaded one)
// use the same code, so "same result" means the same thing on both sides.

import { inspect } from 'node:util';

export type InvokeMode = 'call' | 'construct' | 'collect';

export async function invoke(
  fn: Function,
  args: unknown[],
  mode: InvokeMode = 'call',
): Promise<unknown> {
  if (mode === 'construct') {
    return new (fn as new (...a: unknown[]) => unknown)(...args);
  }
  let result = (fn as (...a: unknown[]) => unknown)(...args);
  if (result && typeof (result as Promise<unknown>).then === 'function') {
    result = await result;
  }
  if (mode === 'collect') {
    const items: unknown[] = [];
    for await (const item of result as AsyncIterable<unknown>) items.push(item);
    return items;
  }
  return result;
}

/**
 * A deterministic text form of a result that keeps class names, Map and
 * Set contents, BigInt and Date, so a class instance that came back as a
 * plain object does not compare equal.
 */
export function canonical(value: unknown): string {
  return inspect(value, {
    depth: 8,
    sorted: true,
    breakLength: Infinity,
    compact: true,
    getters: false,
    maxArrayLength: 1000,
    maxStringLength: 10_000,
  });
}

/** The outcome of running the original or a loaded function. */
export type RunResult = { value: string } | { threw: string };

export async function run(
  fn: Function,
  args: unknown[],
  mode: InvokeMode | undefined,
): Promise<RunResult> {
  try {
    return { value: canonical(await invoke(fn, args, mode)) };
  } catch (err) {
    return { threw: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}
