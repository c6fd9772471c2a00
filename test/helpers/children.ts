// Real child processes for the multi-process tests: `node --import tsx`
// on a fixture script, with helpers to wait for what they print or write.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  send(line: string): void;
}

/**
 * Start `node --import tsx <script> ...args` in the project root, or in
 * `cwd` (the script path stays relative to the project root), with `env`
 * added to this process's environment.
 */
export function startChild(
  script: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Child {
  // Outside the project root neither tsx nor the script resolve by name.
  const node = options.cwd
    ? ['--import', pathToFileURL(tsxLoader()).href, join(ROOT, script)]
    : ['--import', 'tsx', script];
  const proc = spawn(process.execPath, [...node, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) => {
    proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    send: (line) => proc.stdin!.write(line + '\n'),
  };
}

function tsxLoader(): string {
  return createRequire(join(ROOT, 'package.json')).resolve('tsx');
}

/** Run a child to completion; throws with its output if it fails. */
export async function runChild(script: string, args: string[]): Promise<string> {
  const child = startChild(script, args);
  const code = await child.exited;
  if (code !== 0) {
    throw new Error(
      `${script} ${args.join(' ')} exited ${code}\n${child.stderr()}`,
    );
  }
  return child.stdout();
}

/**
 * Wait until `check` holds. The limit only guards against a hung test;
 * nothing is asserted about how long it took.
 */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  limitMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(20);
  }
}

export const fileExists = (path: string) => () => existsSync(path);
