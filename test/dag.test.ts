// DAG workflows end to end in one process: a real SQLite file, a real
// Worker, tasks registered by name with the 'json' serializer (functions
// defined under vitest cannot be found by module reference; the v8 and
// multi-process cases are in dag-process.test.ts).

import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { DuckQueue } from '../src/queue/queue.js';
import { Worker } from '../src/worker/worker.js';
import { registerTask } from '../src/serialize/index.js';
import type { SqliteStore } from '../src/store/sqlite.js';
import {
  DagAlreadySubmittedError,
  DagCycleError,
  DagJobRetryError,
  DagNodeNotSerializableError,
  DagRunNotFoundError,
  DagWaitTimeoutError,
  DuplicateNodeError,
  EmptyDagError,
  InvalidDagOptionError,
  UnknownDependencyError,
  type DagContext,
  type DagRun,
  type DagRunResult,
} from '../src/dag/index.js';
import { InvalidOptionError } from '../src/queue/errors.js';
import { storeFactories } from './helpers/stores.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';

/** Executions per task name, across every test in this file. */
const runs = new Map<string, number>();
const counted =
  <A extends unknown[], R>(name: string, fn: (...args: A) => R) =>
  (...args: A): R => {
    runs.set(name, (runs.get(name) ?? 0) + 1);
    return fn(...args);
  };
const task = <A extends unknown[], R>(name: string, fn: (...a: A) => R) => {
  const wrapped = counted(name, fn);
  registerTask(`dagtest.${name}`, wrapped);
  return wrapped;
};

const extract = task('extract', (file: string) => ({ file, rows: [1, 2, 3] }));
const transform = task('transform', (ctx: DagContext) =>
  ctx.upstream<{ rows: number[] }>('extract').rows.map((r) => r * 10),
);
const load = task('load', (table: string, ctx: DagContext) => ({
  table,
  sum: ctx.upstream<number[]>('transform').reduce((a, b) => a + b, 0),
}));
const constant = task('constant', (value: unknown) => value);
const joinAll = task('joinAll', (ctx: DagContext) => ctx.upstreamResults());
const sumUpstream = task('sumUpstream', (ctx: DagContext) =>
  Object.values(ctx.upstreamResults()).reduce<number>(
    (a, b) => a + (b as number),
    0,
  ),
);
const boom = task('boom', (message: string) => {
  throw new Error(message);
});
const statusOf = task('statusOf', (ctx: DagContext) =>
  Object.fromEntries(ctx.upstreamNames.map((n) => [n, ctx.upstreamStatus(n)])),
);
const askStranger = task('askStranger', (ctx: DagContext) =>
  ctx.upstream('stranger'),
);
let gateOpen = false;
const gated = task('gated', (label: string) => {
  if (!gateOpen) throw new Error(`${label}: gate closed`);
  return label;
});
let flakyCalls = 0;
const flaky = task('flaky', () => {
  flakyCalls += 1;
  if (flakyCalls === 1) throw new Error('first attempt fails');
  return 'second attempt';
});

let q: DuckQueue;
let dbPath: string;

beforeEach(async () => {
  dbPath = join(tempDir(), 'dag.db');
  q = await DuckQueue.open(dbPath, {
    serialization: 'json',
    backoff: { baseMs: 1, factor: 1, capMs: 1 },
  });
});
afterEach(async () => {
  await q.close();
});
afterAll(removeTempDirs);

/** Run a worker until the DAG run has ended; return its final status. */
async function runToEnd(run: DagRun, concurrency = 4): Promise<DagRunResult> {
  const worker = new Worker(q, { concurrency, pollMs: 5 });
  const running = worker.run();
  try {
    return await run.wait({ timeoutMs: 60_000, pollMs: 20 });
  } finally {
    await worker.stop();
    await running;
  }
}

function executions(...names: string[]): Record<string, number> {
  return Object.fromEntries(names.map((n) => [n, runs.get(n) ?? 0]));
}

function countRows(table: string): number {
  const db = (q.store as SqliteStore).db;
  return db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;
}

describe('running DAGs', () => {
  it('claims each node of a chain once, storing the ack that made it ready first', async () => {
    const dag = q.dag('line');
    for (let i = 0; i < 10; i++) {
      dag.task(constant, {
        name: `n${i}`,
        args: [i],
        ...(i > 0 ? { dependsOn: `n${i - 1}` } : {}),
      });
    }
    const run = await dag.submit();
    const store = q.store as SqliteStore;
    const claimOne = store.claim.bind(store);
    const claimMany = store.claimMany.bind(store);
    const claimed: number[] = [];
    store.claim = async (request) => {
      const job = await claimOne(request);
      claimed.push(job ? 1 : 0);
      return job;
    };
    store.claimMany = async (request, max) => {
      const jobs = await claimMany(request, max);
      claimed.push(jobs.length);
      return jobs;
    };
    const summary = await new Worker(q, { concurrency: 1 }).run({
      untilEmpty: true,
    });
    expect(summary.done).toBe(10);
    expect((await run.wait({ timeoutMs: 0 })).state).toBe('done');
    // One claim per node; an empty claim before the worker learns that
    // the queue is short, and one when it is drained. Claiming before
    // storing each ack would make every other claim an empty one.
    expect(claimed.filter((n) => n > 0), String(claimed)).toEqual(
      Array(10).fill(1),
    );
    expect(claimed.length, String(claimed)).toBeLessThanOrEqual(12);
  });

  it('runs a linear chain, passing each result downstream', async () => {
    runs.clear();
    const dag = q.dag('etl');
    dag.task(extract, { args: ['data.csv'], name: 'extract' });
    dag.task(transform, { name: 'transform', dependsOn: 'extract' });
    dag.task(load, { name: 'load', args: ['sales'], dependsOn: 'transform' });
    const run = await dag.submit();
    expect(await run.status()).toMatchObject({
      name: 'etl',
      state: 'running',
      total: 3,
      pending: 3,
      done: 0,
    });
    const result = await runToEnd(run);
    expect(result.state).toBe('done');
    expect(result.failures).toEqual([]);
    expect(result.counts).toEqual({
      pending: 0,
      running: 0,
      done: 3,
      failed: 0,
      skipped: 0,
    });
    expect(result.nodes.extract).toMatchObject({
      status: 'done',
      result: { file: 'data.csv', rows: [1, 2, 3] },
    });
    expect(result.nodes.transform).toMatchObject({ result: [10, 20, 30] });
    expect(result.nodes.load).toMatchObject({
      status: 'done',
      attempts: 1,
      result: { table: 'sales', sum: 60 },
    });
    expect(executions('extract', 'transform', 'load')).toEqual({
      extract: 1,
      transform: 1,
      load: 1,
    });
    expect(await run.status()).toMatchObject({ state: 'done', done: 3 });
  });

  it('joins a diamond only after both branches, with both results', async () => {
    runs.clear();
    const dag = q.dag('diamond');
    const top = dag.task(constant, { name: 'top', args: [1] });
    const left = dag.task(constant, { name: 'left', args: ['L'], dependsOn: top });
    const right = dag.task(constant, {
      name: 'right',
      args: ['R'],
      dependsOn: [top],
    });
    dag.task(joinAll, { name: 'bottom', dependsOn: [left, right] });
    const result = await runToEnd(await dag.submit());
    expect(result.state).toBe('done');
    expect(result.nodes.bottom).toMatchObject({
      status: 'done',
      result: { left: 'L', right: 'R' },
    });
    expect(executions('constant', 'joinAll')).toEqual({
      constant: 3,
      joinAll: 1,
    });
  });

  it('fans out to 1,000 tasks and fans back in to one', async () => {
    runs.clear();
    const width = 1_000;
    const dag = q.dag('wide');
    dag.task(constant, { name: 'root', args: [0] });
    const leaves = [];
    for (let i = 0; i < width; i++) {
      leaves.push(
        dag.task(constant, { name: `leaf-${i}`, args: [i], dependsOn: 'root' }),
      );
    }
    dag.task(sumUpstream, { name: 'sum', dependsOn: leaves });
    const run = await dag.submit();
    const result = await runToEnd(run, 16);
    expect(result.state).toBe('done');
    expect(result.counts.done).toBe(width + 2);
    expect(result.nodes.sum).toMatchObject({
      status: 'done',
      result: (width * (width - 1)) / 2,
    });
    expect(executions('constant', 'sumUpstream')).toEqual({
      constant: width + 1,
      sumUpstream: 1,
    });
    const stats = await q.stats();
    expect(stats.done).toBe(width + 2);
  });

  it('skips what follows a failure and says which node failed and why', async () => {
    runs.clear();
    const dag = q.dag('failing');
    dag.task(constant, { name: 'a', args: ['a'] });
    dag.task(boom, {
      name: 'b',
      args: ['disk full'],
      dependsOn: 'a',
      maxAttempts: 1,
    });
    dag.task(statusOf, { name: 'c', dependsOn: 'b' });
    dag.task(statusOf, { name: 'd', dependsOn: ['c', 'a'] });
    dag.task(constant, { name: 'independent', args: ['ok'] });
    const result = await runToEnd(await dag.submit());
    expect(result.state).toBe('failed');
    expect(result.failures).toHaveLength(1);
    expect(result.failures[0]!.node).toBe('b');
    expect(result.failures[0]!.error).toMatchObject({
      name: 'Error',
      message: 'disk full',
    });
    expect(result.failures[0]!.error.stack).toContain('disk full');
    expect(result.nodes.c).toEqual({ status: 'skipped', because: 'b' });
    expect(result.nodes.d).toEqual({ status: 'skipped', because: 'c' });
    expect(result.nodes.independent).toMatchObject({ status: 'done' });
    expect(result.counts).toEqual({
      pending: 0,
      running: 0,
      done: 2,
      failed: 1,
      skipped: 2,
    });
    // Skipped tasks never ran.
    expect(executions('statusOf', 'boom')).toEqual({ statusOf: 0, boom: 1 });
  });

  it("'any' runs on one finished upstream where 'all' is skipped", async () => {
    runs.clear();
    const dag = q.dag('modes');
    dag.task(boom, { name: 'bad', args: ['bad source'], maxAttempts: 1 });
    dag.task(constant, { name: 'good', args: ['fine'] });
    dag.task(statusOf, {
      name: 'needsAny',
      dependsOn: ['bad', 'good'],
      dependencyMode: 'any',
    });
    dag.task(statusOf, {
      name: 'needsAll',
      dependsOn: ['bad', 'good'],
      dependencyMode: 'all',
    });
    dag.task(boom, { name: 'bad2', args: ['also bad'], maxAttempts: 1 });
    dag.task(statusOf, {
      name: 'anyOfFailures',
      dependsOn: ['bad', 'bad2'],
      dependencyMode: 'any',
    });
    const result = await runToEnd(await dag.submit(), 1);
    expect(result.nodes.needsAny).toMatchObject({ status: 'done' });
    const seen = (result.nodes.needsAny as { result: Record<string, string> })
      .result;
    expect(seen.good).toBe('done');
    expect(['pending', 'running', 'failed']).toContain(seen.bad);
    expect(result.nodes.needsAll).toEqual({ status: 'skipped', because: 'bad' });
    expect(result.nodes.anyOfFailures.status).toBe('skipped');
    expect(['bad', 'bad2']).toContain(
      (result.nodes.anyOfFailures as { because: string }).because,
    );
    expect(result.state).toBe('failed');
    expect(result.failures.map((f) => f.node)).toEqual(['bad', 'bad2']);
    expect(executions('statusOf')).toEqual({ statusOf: 1 });
  });

  it('retries a failing attempt and runs the downstream once', async () => {
    runs.clear();
    flakyCalls = 0;
    const dag = q.dag('retrying');
    dag.task(flaky, { name: 'flaky', maxAttempts: 2 });
    dag.task(joinAll, { name: 'after', dependsOn: 'flaky' });
    const result = await runToEnd(await dag.submit());
    expect(result.state).toBe('done');
    expect(result.nodes.flaky).toMatchObject({ attempts: 2 });
    expect(result.nodes.after).toMatchObject({
      result: { flaky: 'second attempt' },
    });
    expect(executions('flaky', 'joinAll')).toEqual({ flaky: 2, joinAll: 1 });
  });

  it('retries a failed run: failed nodes again, skipped ones resume', async () => {
    runs.clear();
    gateOpen = false;
    const dag = q.dag('resumable');
    dag.task(constant, { name: 'first', args: [1] });
    dag.task(gated, {
      name: 'gate',
      args: ['g'],
      dependsOn: 'first',
      maxAttempts: 1,
    });
    dag.task(joinAll, { name: 'after', dependsOn: ['gate', 'first'] });
    const run = await dag.submit();
    const failed = await runToEnd(run);
    expect(failed.state).toBe('failed');
    expect(failed.nodes.after).toEqual({ status: 'skipped', because: 'gate' });

    gateOpen = true;
    expect(await run.retry()).toBe(1);
    expect(await run.status()).toMatchObject({ state: 'running', pending: 2 });
    const done = await runToEnd(run);
    expect(done.state).toBe('done');
    expect(done.failures).toEqual([]);
    expect(done.nodes.gate).toMatchObject({ result: 'g', attempts: 1 });
    expect(done.nodes.after).toMatchObject({ result: { gate: 'g', first: 1 } });
    expect(executions('constant', 'gated', 'joinAll')).toEqual({
      constant: 1,
      gated: 2,
      joinAll: 1,
    });
    expect(await run.retry()).toBe(0);
    const gateJob = (done.nodes.gate as { jobId: string }).jobId;
    await expect(q.retry(gateJob)).rejects.toThrow(DagJobRetryError);
    await expect(q.retry(gateJob)).rejects.toThrow(
      `(await q.dagRun('${run.id}')).retry()`,
    );
  });

  it('fails a task that asks for a result it does not depend on', async () => {
    const dag = q.dag('stranger');
    dag.task(constant, { name: 'only', args: [1] });
    dag.task(askStranger, { name: 'asks', dependsOn: 'only', maxAttempts: 1 });
    const result = await runToEnd(await dag.submit());
    expect(result.failures[0]!.node).toBe('asks');
    expect(result.failures[0]!.error.name).toBe('UpstreamResultError');
    expect(result.failures[0]!.error.message).toContain(
      "'stranger' is not a direct upstream of 'asks' (its upstreams: 'only')",
    );
  });

  it('reattaches to a run by id and renders it coloured by status', async () => {
    const dag = q.dag('again');
    dag.task(constant, { name: 'one', args: [1] });
    dag.task(boom, { name: 'two', args: ['x'], dependsOn: 'one', maxAttempts: 1 });
    dag.task(joinAll, { name: 'three', dependsOn: 'two' });
    const run = await dag.submit();
    const same = await q.dagRun(run.id);
    expect(same.name).toBe('again');
    await runToEnd(same);
    const text = await same.toMermaid();
    expect(text).toContain('n0 --> n1');
    expect(text).toContain('n1 --> n2');
    expect(text).toContain('class n0 done');
    expect(text).toContain('class n1 failed');
    expect(text).toContain('class n2 skipped');
    await expect(q.dagRun('no-such-run')).rejects.toThrow(DagRunNotFoundError);
  });

  it('times out a wait with a typed error when no worker runs', async () => {
    const dag = q.dag('unattended');
    dag.task(constant, { name: 'one', args: [1] });
    const run = await dag.submit();
    const waiting = run.wait({ timeoutMs: 0 });
    await expect(waiting).rejects.toThrow(DagWaitTimeoutError);
    await expect(waiting).rejects.toThrow(/still has 1 unfinished node/);
    await expect(run.wait({ timeoutMs: -1 })).rejects.toThrow(
      InvalidDagOptionError,
    );
  });
});

describe('validation at submit', () => {
  it('names the cycle and stores nothing', async () => {
    const dag = q.dag('loop');
    dag.task(constant, { name: 'a', args: [1], dependsOn: 'c' });
    dag.task(constant, { name: 'b', args: [1], dependsOn: 'a' });
    dag.task(constant, { name: 'c', args: [1], dependsOn: 'b' });
    const submitting = dag.submit();
    await expect(submitting).rejects.toThrow(DagCycleError);
    await expect(submitting).rejects.toThrow(
      "DAG 'loop' has a dependency cycle: a -> b -> c -> a.",
    );
    expect(countRows('dag_runs')).toBe(0);
    expect(countRows('jobs')).toBe(0);
  });

  it('rejects unknown dependencies, duplicate names and empty DAGs', async () => {
    const dag = q.dag('typos');
    dag.task(constant, { name: 'extract', args: [1] });
    dag.task(constant, { name: 'load', args: [1], dependsOn: 'transfrom' });
    await expect(dag.submit()).rejects.toThrow(UnknownDependencyError);
    await expect(dag.submit()).rejects.toThrow(
      /'load' in DAG 'typos' depends on 'transfrom'/,
    );
    expect(() => dag.task(constant, { name: 'extract', args: [2] })).toThrow(
      DuplicateNodeError,
    );
    await expect(q.dag('empty').submit()).rejects.toThrow(EmptyDagError);
    expect(countRows('dag_runs')).toBe(0);
  });

  it('rejects bad task options with typed errors naming the option', () => {
    const dag = q.dag('options');
    expect(() =>
      dag.task(constant, {
        name: 'x',
        dependencyMode: 'some' as 'any',
      }),
    ).toThrow(/option 'dependencyMode' must be 'all' or 'any', got "some"/);
    expect(() =>
      dag.task(constant, { name: 'x', dependOn: 'a' } as object),
    ).toThrow(InvalidDagOptionError);
    expect(() => dag.task(constant, { name: 'x', priority: 500 })).toThrow(
      InvalidOptionError,
    );
    expect(() => dag.task(() => 1)).toThrow(/is required for an anonymous/);
    expect(() => dag.task('extract' as never)).toThrow(/must be the task's function/);
    expect(() => dag.task(constant, { name: '' })).toThrow(InvalidDagOptionError);
    const other = q.dag('other').task(constant, { name: 'theirs', args: [1] });
    expect(() => dag.task(constant, { name: 'x', dependsOn: other })).toThrow(
      /refers to task 'theirs' of DAG 'other'/,
    );
    expect(() => dag.task(constant, { name: 'x', dependsOn: [3 as never] })).toThrow(
      /option 'dependsOn\[0\]' must be a task name/,
    );
    expect(() => q.dag('')).toThrow(InvalidDagOptionError);
    expect(dag.taskNames).toEqual([]);
  });

  it('fails dag.task() naming the node when the serializer refuses', () => {
    const dag = q.dag('unregistered');
    const notRegistered = (x: number) => x + 1;
    try {
      dag.task(notRegistered, { name: 'adder', args: [1] });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(DagNodeNotSerializableError);
      const e = err as DagNodeNotSerializableError;
      expect(e.node).toBe('adder');
      expect(e.serializer).toBe('json');
      expect(e.message).toMatch(
        new RegExp(
          "^task 'adder' in DAG 'unregistered' cannot be stored with the " +
            "'json' serializer: ",
        ),
      );
      expect(e.cause).toBeInstanceOf(Error);
    }
  });

  it('submits once per builder', async () => {
    const dag = q.dag('once');
    dag.task(constant, { name: 'one', args: [1] });
    const run = await dag.submit();
    await expect(dag.submit()).rejects.toThrow(DagAlreadySubmittedError);
    expect(() => dag.task(constant, { name: 'two', args: [2] })).toThrow(
      DagAlreadySubmittedError,
    );
    expect(dag.submitted).toBe(run);
  });

  it('draws the builder as mermaid before submitting', () => {
    const dag = q.dag('drawn');
    dag.task(extract, { name: 'extract', args: ['f'] });
    dag.task(transform, { name: 'transform', dependsOn: 'extract' });
    expect(dag.toMermaid({ direction: 'LR' })).toBe(
      'graph LR\n  n0["extract"]\n  n1["transform"]\n  n0 --> n1',
    );
  });
});

describe('callback form', () => {
  it('submits when the callback resolves', async () => {
    const run = await q.dag('cb', async (dag) => {
      dag.task(constant, { name: 'one', args: [1] });
      await Promise.resolve();
      dag.task(joinAll, { name: 'two', dependsOn: 'one' });
    });
    const result = await runToEnd(run);
    expect(result.nodes.two).toMatchObject({ result: { one: 1 } });
  });

  it('stores nothing when the callback throws', async () => {
    const failure = new Error('changed my mind');
    const attempt = q.dag('cb-throws', async (dag) => {
      dag.task(constant, { name: 'one', args: [1] });
      dag.task(constant, { name: 'two', args: [2], dependsOn: 'one' });
      throw failure;
    });
    await expect(attempt).rejects.toBe(failure);
    expect(countRows('dag_runs')).toBe(0);
    expect(countRows('dag_nodes')).toBe(0);
    expect(countRows('jobs')).toBe(0);
  });

  it('stores nothing when the graph in the callback is invalid', async () => {
    const attempt = q.dag('cb-cycle', (dag) => {
      dag.task(constant, { name: 'a', args: [1], dependsOn: 'a' });
    });
    await expect(attempt).rejects.toThrow('a -> a');
    expect(countRows('dag_runs')).toBe(0);
    expect(countRows('jobs')).toBe(0);
  });
});

// The same DAG through DuckQueue and a Worker on every store that keeps
// DAG runs (PostgreSQL when DUCKQUEUE_PG_URL is set).
for (const factory of storeFactories) {
  const unavailable = factory.unavailable ? await factory.unavailable() : null;
  const title = `a failing diamond on the ${factory.name} store`;
  describe.skipIf(unavailable !== null)(
    unavailable ? `${title} (${unavailable})` : title,
    () => {
      it('runs, skips and reports like on SQLite', async () => {
        const store = await factory.create(tempDir());
        const sq = await DuckQueue.open(factory.name, {
          store,
          serialization: 'json',
        });
        try {
          const run = await sq.dag('per-store', (dag) => {
            dag.task(constant, { name: 'a', args: ['A'] });
            dag.task(boom, {
              name: 'b',
              args: ['b broke'],
              dependsOn: 'a',
              maxAttempts: 1,
            });
            dag.task(joinAll, { name: 'c', dependsOn: 'a' });
            dag.task(statusOf, {
              name: 'anyOf',
              dependsOn: ['b', 'c'],
              dependencyMode: 'any',
            });
            dag.task(statusOf, { name: 'allOf', dependsOn: ['b', 'c'] });
          });
          const worker = new Worker(sq, { concurrency: 2, pollMs: 5 });
          const running = worker.run();
          const result = await run.wait({ timeoutMs: 60_000, pollMs: 20 });
          await worker.stop();
          await running;
          expect(result.state).toBe('failed');
          expect(result.failures).toEqual([
            {
              node: 'b',
              error: expect.objectContaining({ message: 'b broke' }),
            },
          ]);
          expect(result.nodes.c).toMatchObject({ result: { a: 'A' } });
          expect(result.nodes.anyOf).toMatchObject({ status: 'done' });
          expect(result.nodes.allOf).toEqual({
            status: 'skipped',
            because: 'b',
          });
          expect(await (await sq.dagRun(run.id)).status()).toMatchObject({
            state: 'failed',
            done: 3,
            failed: 1,
            skipped: 1,
          });
        } finally {
          await sq.close();
        }
      });
    },
  );
}
