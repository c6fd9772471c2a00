// The DAG part of the store contract: every store in test/helpers/stores.ts
// that has `store.dag` must pass these, driven with plain rows through the
// Store interface (no serializer, no worker). A store without DAG support
// is listed as skipped with the reason.

import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DagStore, NewDagRun } from '../src/dag/store.js';
import type { DependencyMode } from '../src/dag/types.js';
import type { ErrorRow, JobRow, NewJobRow, Store } from '../src/store/types.js';
import { storeFactories } from './helpers/stores.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';

const T0 = 1_700_000_000_000;
const VT = 30_000;
const enc = new TextEncoder();
const dec = new TextDecoder();

type Spec = [name: string, dependsOn?: string[], mode?: DependencyMode];

function jobRow(name: string, maxAttempts: number): NewJobRow {
  return {
    queue: 'dag',
    payload: enc.encode(name),
    format: 'json',
    fnName: name,
    priority: 50,
    runAt: T0,
    maxAttempts,
    timeoutMs: null,
    createdAt: T0,
  };
}

let runCounter = 0;
function runOf(specs: Spec[], maxAttempts = 1): NewDagRun {
  const pos = new Map(specs.map(([name], i) => [name, i]));
  return {
    id: `run-${++runCounter}`,
    name: 'etl',
    createdAt: T0,
    nodes: specs.map(([name, deps = [], mode = 'all']) => ({
      name,
      mode,
      upstream: deps.map((d) => pos.get(d)!),
      job: jobRow(name, maxAttempts),
    })),
  };
}

const err = (message: string): ErrorRow => ({
  name: 'Error',
  message,
  stack: `Error: ${message}`,
  value: null,
});

afterAll(removeTempDirs);

for (const factory of storeFactories) {
  const unavailable = factory.unavailable ? await factory.unavailable() : null;
  let hasDag = false;
  if (unavailable === null) {
    const probe = await factory.create(tempDir());
    hasDag = probe.dag !== undefined;
    await probe.close();
  }
  const skip =
    unavailable ?? (hasDag ? null : `the ${factory.name} store has no DAG support`);

  const title = `DAG store contract: ${factory.name}`;
  describe.skipIf(skip !== null)(skip ? `${title} (${skip})` : title, () => {
    let store: Store;
    let dag: DagStore;
    let now = T0;

    beforeEach(async () => {
      store = await factory.create(tempDir());
      dag = store.dag!;
      now = T0;
    });
    afterEach(async () => {
      await store.close();
    });

    /** Claim everything ready and report it by node name. */
    async function claimAll(): Promise<Map<string, JobRow>> {
      now += 1;
      const jobs = await store.claimMany(
        { queue: 'dag', workerId: 'w', now, visibilityTimeoutMs: VT },
        10_000,
      );
      return new Map(jobs.map((j) => [dec.decode(j.payload), j]));
    }

    async function ack(job: JobRow, result = job.fnName) {
      return store.ack(job.id, enc.encode(result), ++now, {
        workerId: 'w',
        attempt: job.attempts,
      });
    }

    async function fail(job: JobRow, status: 'failed' | 'dead' = 'failed') {
      return store.fail(
        job.id,
        { error: err(`${job.fnName} broke`), status, now: ++now },
        { workerId: 'w', attempt: job.attempts },
      );
    }

    async function states(runId: string) {
      const nodes = await dag.listNodes(runId);
      return Object.fromEntries(nodes.map((n) => [n.name, n.state]));
    }

    it('enqueues only the roots at creation, in one transaction', async () => {
      const run = runOf([['a'], ['b', ['a']], ['c']]);
      const ids = await dag.createRun(run);
      expect([...ids.keys()].sort()).toEqual([0, 2]);
      expect([...(await claimAll()).keys()].sort()).toEqual(['a', 'c']);
      expect(await states(run.id)).toEqual({
        a: 'queued',
        b: 'blocked',
        c: 'queued',
      });
      const row = await dag.getRun(run.id);
      expect(row).toMatchObject({
        id: run.id,
        name: 'etl',
        state: 'running',
        nodeCount: 3,
        unfinished: 3,
        failedCount: 0,
        finishedAt: null,
      });
      expect(await dag.listEdges(run.id)).toEqual([[0, 1]]);
      expect(await dag.getRun('no-such-run')).toBeNull();
    });

    it('runs a chain one node per ack and ends the run done', async () => {
      const run = runOf([['a'], ['b', ['a']], ['c', ['b']]]);
      await dag.createRun(run);
      for (const name of ['a', 'b', 'c']) {
        const ready = await claimAll();
        expect([...ready.keys()]).toEqual([name]);
        expect(await ack(ready.get(name)!)).toBe(true);
      }
      const row = await dag.getRun(run.id);
      expect(row).toMatchObject({ state: 'done', unfinished: 0 });
      expect(row!.finishedAt).toBe(now);
      expect((await claimAll()).size).toBe(0);
      const nodes = await dag.listNodes(run.id);
      expect(nodes.map((n) => [n.name, n.state, n.jobStatus])).toEqual([
        ['a', 'done', 'done'],
        ['b', 'done', 'done'],
        ['c', 'done', 'done'],
      ]);
      expect(dec.decode(nodes[1]!.result!)).toBe('b');
    });

    it('starts a diamond join only after both branches', async () => {
      const run = runOf([['a'], ['b', ['a']], ['c', ['a']], ['d', ['b', 'c']]]);
      await dag.createRun(run);
      await ack((await claimAll()).get('a')!);
      const branches = await claimAll();
      expect([...branches.keys()].sort()).toEqual(['b', 'c']);
      await ack(branches.get('b')!);
      expect((await claimAll()).size).toBe(0);
      expect((await states(run.id)).d).toBe('blocked');
      await ack(branches.get('c')!);
      expect([...(await claimAll()).keys()]).toEqual(['d']);
    });

    it("skips every downstream of a failure in 'all' mode", async () => {
      const run = runOf([
        ['a'],
        ['b', ['a']],
        ['c', ['b']],
        ['side'],
        ['d', ['c', 'side']],
      ]);
      await dag.createRun(run);
      const first = await claimAll();
      await ack(first.get('side')!);
      expect(await fail(first.get('a')!)).toBe(true);
      expect((await claimAll()).size).toBe(0);
      const nodes = await dag.listNodes(run.id);
      expect(nodes.map((n) => [n.name, n.state, n.skippedBy])).toEqual([
        ['a', 'failed', null],
        ['b', 'skipped', 'a'],
        ['c', 'skipped', 'b'],
        ['side', 'done', null],
        ['d', 'skipped', 'c'],
      ]);
      expect(nodes[0]!.lastError).toMatchObject({ message: 'a broke' });
      expect(await dag.getRun(run.id)).toMatchObject({
        state: 'failed',
        unfinished: 0,
        failedCount: 1,
      });
    });

    it("starts an 'any' node on its first done upstream", async () => {
      const run = runOf([
        ['x'],
        ['y'],
        ['join', ['x', 'y'], 'any'],
        ['after', ['join']],
      ]);
      await dag.createRun(run);
      const roots = await claimAll();
      await fail(roots.get('x')!);
      expect((await states(run.id)).join).toBe('blocked');
      await ack(roots.get('y')!);
      const next = await claimAll();
      expect([...next.keys()]).toEqual(['join']);
      await ack(next.get('join')!);
      await ack((await claimAll()).get('after')!);
      expect(await states(run.id)).toEqual({
        x: 'failed',
        y: 'done',
        join: 'done',
        after: 'done',
      });
      // A failure anywhere makes the run failed, even if later nodes ran.
      expect((await dag.getRun(run.id))!.state).toBe('failed');
    });

    it("does not start an 'any' node twice, and ignores late failures", async () => {
      const run = runOf([['x'], ['y'], ['join', ['x', 'y'], 'any']]);
      await dag.createRun(run);
      const roots = await claimAll();
      await ack(roots.get('x')!);
      expect([...(await claimAll()).keys()]).toEqual(['join']);
      await ack(roots.get('y')!);
      expect((await claimAll()).size).toBe(0);
      const join = (await dag.listNodes(run.id))[2]!;
      expect(join).toMatchObject({ state: 'queued', jobStatus: 'claimed' });
    });

    it("skips an 'any' node only when every upstream failed or skipped", async () => {
      const run = runOf([
        ['x'],
        ['y'],
        ['y2', ['y']],
        ['join', ['x', 'y2'], 'any'],
      ]);
      await dag.createRun(run);
      const roots = await claimAll();
      await fail(roots.get('x')!);
      expect((await states(run.id)).join).toBe('blocked');
      await fail(roots.get('y')!, 'dead');
      const nodes = await dag.listNodes(run.id);
      expect(nodes.map((n) => [n.name, n.state, n.skippedBy])).toEqual([
        ['x', 'failed', null],
        ['y', 'failed', null],
        ['y2', 'skipped', 'y'],
        ['join', 'skipped', 'y2'],
      ]);
      expect(await dag.getRun(run.id)).toMatchObject({
        state: 'failed',
        failedCount: 2,
        unfinished: 0,
      });
    });

    it('keeps a node queued through retries; the last attempt settles', async () => {
      const run = runOf([['a'], ['b', ['a']]], 2);
      await dag.createRun(run);
      const a = (await claimAll()).get('a')!;
      const retried = await store.retry(
        a.id,
        { error: err('flaky'), runAt: now, now: ++now },
        { workerId: 'w', attempt: 1 },
      );
      expect(retried).toBe(true);
      expect(await states(run.id)).toEqual({ a: 'queued', b: 'blocked' });
      const again = (await claimAll()).get('a')!;
      expect(again.attempts).toBe(2);
      await ack(again);
      expect([...(await claimAll()).keys()]).toEqual(['b']);
    });

    it('settles a node whose last claim lapsed as failed', async () => {
      const run = runOf([['a'], ['b', ['a']]]);
      await dag.createRun(run);
      await claimAll();
      const recovered = await store.recoverExpired({
        now: now + VT + 1,
        error: err('claim expired'),
      });
      expect(recovered).toEqual({ requeued: 0, dead: 1 });
      expect(await states(run.id)).toEqual({ a: 'failed', b: 'skipped' });
      expect((await dag.getRun(run.id))!.state).toBe('failed');
    });

    it('settles once: a stale second ack changes nothing', async () => {
      const run = runOf([['a'], ['b', ['a']], ['c', ['a', 'b']]]);
      await dag.createRun(run);
      const a = (await claimAll()).get('a')!;
      expect(await ack(a)).toBe(true);
      expect(await ack(a)).toBe(false);
      expect(await fail(a)).toBe(false);
      const nodes = await dag.listNodes(run.id);
      expect(nodes.map((n) => n.state)).toEqual(['done', 'queued', 'blocked']);
      expect((await dag.getRun(run.id))!.unfinished).toBe(2);
    });

    it('tells a job which node it runs and what its upstreams returned', async () => {
      const run = runOf([['x'], ['y'], ['z'], ['join', ['x', 'y', 'z'], 'any']]);
      await dag.createRun(run);
      const roots = await claimAll();
      await fail(roots.get('y')!);
      await ack(roots.get('z')!, 'zz');
      const join = (await claimAll()).get('join')!;
      const info = await dag.jobNode(join.id);
      expect(info).toMatchObject({ runId: run.id, dag: 'etl', node: 'join' });
      const up = info!.upstream.map((u) => [
        u.name,
        u.state,
        u.jobStatus,
        u.result && dec.decode(u.result),
      ]);
      expect(up).toEqual([
        ['x', 'queued', 'claimed', null],
        ['y', 'failed', 'failed', null],
        ['z', 'done', 'done', 'zz'],
      ]);
      expect(await dag.jobNode(roots.get('x')!.id)).toMatchObject({
        node: 'x',
        upstream: [],
      });
    });

    it('retries failed nodes and reopens what they skipped', async () => {
      const run = runOf([
        ['a'],
        ['b', ['a']],
        ['c', ['b']],
        ['d', ['c', 'a']],
        ['side'],
        ['either', ['b', 'side'], 'any'],
      ]);
      await dag.createRun(run);
      const roots = await claimAll();
      await ack(roots.get('a')!);
      const b = (await claimAll()).get('b')!;
      await fail(b, 'dead');
      await ack(roots.get('side')!);
      await ack((await claimAll()).get('either')!);
      expect(await states(run.id)).toMatchObject({
        b: 'failed',
        c: 'skipped',
        d: 'skipped',
        either: 'done',
      });
      expect((await dag.getRun(run.id))!.state).toBe('failed');

      expect(await dag.retryFailed(run.id, ++now)).toEqual([b.id]);
      expect(await states(run.id)).toEqual({
        a: 'done',
        b: 'queued',
        c: 'blocked',
        d: 'blocked',
        side: 'done',
        either: 'done',
      });
      expect(await dag.getRun(run.id)).toMatchObject({
        state: 'running',
        unfinished: 3,
        failedCount: 0,
        finishedAt: null,
      });
      const again = (await claimAll()).get('b')!;
      expect([again.id, again.attempts]).toEqual([b.id, 1]);
      await ack(again);
      await ack((await claimAll()).get('c')!);
      // d also waits on a, done before the retry: it counts.
      await ack((await claimAll()).get('d')!);
      expect(await dag.getRun(run.id)).toMatchObject({
        state: 'done',
        unfinished: 0,
      });
      expect(await dag.retryFailed(run.id, ++now)).toEqual([]);
    });

    it('leaves plain jobs alone', async () => {
      const id = await store.enqueue(jobRow('plain', 1));
      expect(await dag.jobNode(id)).toBeNull();
      const plain = (await claimAll()).get('plain')!;
      expect(await ack(plain)).toBe(true);
      expect((await store.getJob(id, now))!.status).toBe('done');
    });

    it('fans out to 1,000 nodes (DuckDB: 100) and back in', async () => {
      // DuckDB pays about a millisecond per statement and each ack into
      // the fan-in is its own transaction; a narrower fan keeps this file
      // fast while checking the same logic.
      const width = factory.name === 'duckdb' ? 100 : 1_000;
      const specs: Spec[] = [['root']];
      for (let i = 0; i < width; i++) specs.push([`leaf${i}`, ['root']]);
      specs.push(['sink', specs.slice(1).map(([name]) => name)]);
      const run = runOf(specs);
      await dag.createRun(run);
      await ack((await claimAll()).get('root')!);
      const leaves = await claimAll();
      expect(leaves.size).toBe(width);
      let i = 0;
      for (const job of leaves.values()) {
        await ack(job);
        if (++i === width - 1) {
          expect((await claimAll()).size).toBe(0);
        }
      }
      expect([...(await claimAll()).keys()]).toEqual(['sink']);
      const info = await dag.jobNode(
        (await dag.listNodes(run.id)).at(-1)!.jobId!,
      );
      expect(info!.upstream).toHaveLength(width);
      expect(info!.upstream.every((u) => u.state === 'done')).toBe(true);
    });
  });
}
