// DAGs across real processes: submitted by one child with the 'v8'
// serializer (functions by module reference), run by worker children,
// observed from here through the store. Every task start is appended to a
// log file, so executions are counted across processes and restarts.

import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DuckQueue } from '../src/queue/queue.js';
import { createSerializer } from '../src/serialize/index.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');

interface Child {
  proc: ChildProcess;
  exited: Promise<Exit>;
}

interface Exit {
  code: number | null;
  signal: string | null;
  out: string;
}

function start(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Child {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', join(FIXTURES, script), ...args],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<Exit>((resolve) =>
    proc.on('exit', (code, signal) => {
      if (code !== 0 && signal === null) {
        console.error(`${script} exited ${code}:\n${err}`);
      }
      resolve({ code, signal, out });
    }),
  );
  return { proc, exited };
}

async function runScript(script: string, args: string[]): Promise<any> {
  const { code, out } = await start(script, args).exited;
  expect(code).toBe(0);
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

/** Task name -> number of starts recorded in the log. */
function starts(log: string): Record<string, number> {
  const counts: Record<string, number> = {};
  if (!existsSync(log)) return counts;
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const [word, task] = line.split(' ');
    if (word === 'start' && task) counts[task] = (counts[task] ?? 0) + 1;
  }
  return counts;
}

/** Poll until `check` is true; the test timeout bounds the wait. */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await sleep(25);
}

afterAll(removeTempDirs);

describe('DAG runs across processes', () => {
  it('runs a DAG submitted by one process in two worker processes', async () => {
    const dir = tempDir();
    const db = join(dir, 'tree.db');
    const log = join(dir, 'starts.log');
    const { runId } = await runScript('dag-submit.ts', [db, 'tree']);
    const workers = [0, 1].map(() =>
      start('dag-worker.ts', [db, runId], { DAG_EXEC_LOG: log }),
    );
    const results = await Promise.all(workers.map((w) => w.exited));
    for (const r of results) expect(r.code).toBe(0);
    const summaries = results.map((r) => JSON.parse(r.out.trim()));
    expect(summaries.reduce((n, s) => n + s.done, 0)).toBe(9);

    const q = await DuckQueue.open(db, { serialization: 'json' });
    try {
      const outcome = await (await q.dagRun(runId)).wait({ timeoutMs: 0 });
      expect(outcome.state).toBe('done');
      expect(outcome.nodes.join).toMatchObject({
        status: 'done',
        result: [0, 1, 2, 3, 4, 5].map((i) => `root>mid${i}`).join('+') + '>join',
      });
      expect((outcome.nodes.last as { result: string }).result).toMatch(
        /^root>mid0\+.*>join>last$/,
      );
    } finally {
      await q.close();
    }
    const counts = starts(log);
    expect(Object.keys(counts).sort()).toEqual(
      ['join', 'last', 'mid0', 'mid1', 'mid2', 'mid3', 'mid4', 'mid5', 'root'],
    );
    expect(Object.values(counts).every((n) => n === 1)).toBe(true);
  });

  it('survives a SIGKILLed worker without re-running done tasks', async () => {
    const dir = tempDir();
    const db = join(dir, 'restart.db');
    const log = join(dir, 'starts.log');
    const { runId } = await runScript('dag-submit.ts', [db, 'restart']);
    writeFileSync(`${log}.hang`, 'c hangs while this file exists\n');

    const q = await DuckQueue.open(db, { serialization: 'json' });
    try {
      const run = await q.dagRun(runId);
      const nodeStates = async () => {
        const s = await q.store.dag!.listNodes(runId);
        return Object.fromEntries(s.map((n) => [n.name, n.state]));
      };
      // A short visibility timeout so the killed worker's claim lapses soon.
      const first = start('dag-worker.ts', [db, runId, '1500'], {
        DAG_EXEC_LOG: log,
      });
      await until(async () => {
        const s = await nodeStates();
        return (
          starts(log).c === 1 &&
          s.a === 'done' &&
          s.b === 'done' &&
          s.p === 'done' &&
          s.q === 'done'
        );
      });
      expect(await run.status()).toMatchObject({ running: 1, done: 4, pending: 1 });
      first.proc.kill('SIGKILL');
      expect((await first.exited).signal).toBe('SIGKILL');
      expect((await run.status()).state).toBe('running');

      rmSync(`${log}.hang`);
      const second = start('dag-worker.ts', [db, runId], { DAG_EXEC_LOG: log });
      expect((await second.exited).code).toBe(0);

      const outcome = await run.wait({ timeoutMs: 0 });
      expect(outcome.state).toBe('done');
      expect(outcome.nodes.c).toMatchObject({ status: 'done', attempts: 2 });
      expect(outcome.nodes.e).toMatchObject({
        status: 'done',
        result: 'a>b>c+a>p>q>e',
      });
      // Only the task that was running when the worker died ran twice.
      expect(starts(log)).toEqual({ a: 1, b: 1, p: 1, q: 1, c: 2, e: 1 });
      const c = await q.getJob((outcome.nodes.c as { jobId: string }).jobId);
      expect(c.claimedBy).not.toContain(`:${first.proc.pid}:`);
    } finally {
      await q.close();
    }
  });
});

describe('DAG tasks and the serializer', () => {
  it("refuses a lambda under 'v8' at dag.task(), naming the task", async () => {
    const db = join(tempDir(), 'v8.db');
    const { refused } = await runScript('dag-lambdas.ts', [db, 'v8']);
    expect(refused).toMatchObject({
      name: 'DagNodeNotSerializableError',
      node: 'double',
      serializer: 'v8',
      cause: 'NotSerializableError',
    });
    expect(refused.message).toMatch(
      new RegExp(
        "^task 'double' in DAG 'lambdas' cannot be stored with the 'v8' " +
          "serializer: fn cannot be serialized: arrow function .*use 'source'",
      ),
    );
    const q = await DuckQueue.open(db, { serialization: 'json' });
    expect((await q.stats()).pending).toBe(0);
    await q.close();
  });

  // 'source' and 'auto' ship a lambda's code; they are checked here once
  // the serializer package provides them.
  for (const name of ['source', 'auto']) {
    const missing = (() => {
      try {
        createSerializer(name);
        return null;
      } catch (err) {
        return (err as Error).message;
      }
    })();
    it.skipIf(missing !== null)(
      `runs lambdas and closures in another process under '${name}'` +
        (missing ? ` (skipped: ${missing})` : ''),
      async () => {
        const dir = tempDir();
        const db = join(dir, `${name}.db`);
        const { runId } = await runScript('dag-lambdas.ts', [db, name]);
        const worker = start('dag-worker.ts', [db, runId, '30000', name]);
        expect((await worker.exited).code).toBe(0);
        const q = await DuckQueue.open(db, { serialization: 'json' });
        try {
          const outcome = await (await q.dagRun(runId)).wait({ timeoutMs: 0 });
          expect(outcome.nodes.double).toMatchObject({ result: 42 });
          expect(outcome.nodes.shift).toMatchObject({ result: 142 });
        } finally {
          await q.close();
        }
      },
    );
  }
});
