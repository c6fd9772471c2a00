// Assertions shared by the option tests: what was thrown, and that it is
// an InvalidOptionError naming the right option.

import { expect } from 'vitest';
import { InvalidOptionError } from '../../src/queue/errors.js';

/** What `run` threw (or rejected with), or null when it succeeded. */
export async function thrown(run: () => unknown): Promise<unknown> {
  try {
    await run();
    return null;
  } catch (err) {
    return err;
  }
}

export function expectOptionError(
  err: unknown,
  option: string,
  message: RegExp,
): void {
  expect(err).toBeInstanceOf(InvalidOptionError);
  expect((err as InvalidOptionError).option).toBe(option);
  expect((err as Error).message).toMatch(message);
}
