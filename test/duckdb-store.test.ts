// What only the DuckDB store has: one writing process per file (checked
// with real second processes), stores in one process sharing the file,
// and refusing files that are not DuckDB databases. The common behaviour
// is in the store contract suite.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  openStore,
  StoreFileError,
  StoreLockedError,
} from '../src/store/duckdb.js';
import type { NewJobRow } from '../src/store/types.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'duckdb-process.ts');
const T0 = 1_700_000_000_000;

afterAll(removeTempDirs);

interface ChildLine {
  pid: number;
  outcome: 'error' | 'ready' | 'opened' | 'crash';
  name?: string;
  code?: string;
  holderPid?: number | null;
  message?: string;
  id?: string;
  fnNames?: string[];
}

function job(fnName: string): NewJobRow {
  return {
    queue: 'default',
    payload: new Uint8Array([1]),
    format: 'json',
    fnName,
    priority: 50,
    runAt: T0,
    maxAttempts: 1,
    timeoutMs: null,
    createdAt: T0,
  };
}

const claimAt = (now: number) => ({
  queue: 'default',
  workerId: 'w',
  now,
  visibilityTimeoutMs: 1000,
});

/** Start the fixture process; lines arrive parsed, in order. */
function startChild(mode: 'open' | 'hold', file: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, mode, file], {
    stdio: ['pipe', 'pipe', 'pipe'],
  }) as ChildProcessWithoutNullStreams;
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const lines = createInterface({ input: child.stdout });
  const queue: ChildLine[] = [];
  const waiting: ((l: ChildLine) => void)[] = [];
  lines.on('line', (text) => {
    const line = JSON.parse(text) as ChildLine;
    const next = waiting.shift();
    if (next) next(line);
    else queue.push(line);
  });
  const exited = new Promise<number | null>((done) => child.on('exit', done));
  return {
    child,
    exited,
    /** The next line, or a failure naming stderr if the child dies first. */
    next(): Promise<ChildLine> {
      const ready = queue.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        waiting.push(resolve);
        exited.then((code) => {
          if (!queue.length) {
            reject(new Error(`child exited ${code} first: ${stderr}`));
          }
        });
      });
    },
  };
}

describe('duckdb store: one writing process per file', () => {
  it('refuses a second process with StoreLockedError, then lets it in', async () => {
    const file = join(tempDir(), 'jobs.duckdb');
    const store = await openStore(file);
    await store.enqueue(job('parent'));

    const refused = startChild('open', file);
    const line = await refused.next();
    expect(await refused.exited).toBe(0);
    expect(line).toMatchObject({
      outcome: 'error',
      name: 'StoreLockedError',
      code: 'STORE_LOCKED',
      holderPid: process.pid,
    });
    expect(line.message).toContain(file);
    expect(line.message).toContain("store: 'sqlite'");
    expect(line.message).toContain("store: 'postgres'");
    // The refused process changed nothing.
    expect((await store.stats(undefined, T0)).pending).toBe(1);
    await store.close();

    const admitted = startChild('open', file);
    const ok = await admitted.next();
    expect(await admitted.exited).toBe(0);
    expect(ok.outcome).toBe('opened');
    expect(ok.fnNames?.sort()).toEqual(['parent', `from-${ok.pid}`].sort());
  });

  it('is refused itself while another process holds the file', async () => {
    const file = join(tempDir(), 'jobs.duckdb');
    const holder = startChild('hold', file);
    const ready = await holder.next();
    expect(ready.outcome).toBe('ready');

    const err = await openStore(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreLockedError);
    expect(err).toMatchObject({ holderPid: holder.child.pid, location: file });

    holder.child.stdin.write('close\n');
    expect((await holder.next()).outcome).toBe('opened');
    expect(await holder.exited).toBe(0);

    // Nothing the holder wrote was lost.
    const store = await openStore(file);
    const rows = await store.listJobs({ now: T0 });
    expect(rows.map((r) => r.fnName)).toEqual([`from-${ready.pid}`]);
    expect(rows[0]!.id).toBe(ready.id);
    await store.close();
  });
});

describe('duckdb store: stores in one process', () => {
  it('share one database file and survive each other closing', async () => {
    const file = join(tempDir(), 'jobs.duckdb');
    const a = await openStore(file);
    const b = await openStore(file);
    const id = await a.enqueue(job('shared'));
    expect((await b.getJob(id, T0))?.fnName).toBe('shared');
    const claimed = await Promise.all([
      a.claimMany({ ...claimAt(T0), workerId: 'a' }, 5),
      b.claimMany({ ...claimAt(T0), workerId: 'b' }, 5),
    ]);
    expect(claimed.flat().map((j) => j.id)).toEqual([id]);
    await a.close();
    expect(await b.ack(id, null, T0)).toBe(true);
    await b.close();

    const c = await openStore(file);
    expect((await c.getJob(id, T0))?.status).toBe('done');
    await c.close();
  });

  it('refuses use after close with an error saying so', async () => {
    const store = await openStore(join(tempDir(), 'jobs.duckdb'));
    await store.close();
    await expect(store.enqueue(job('late'))).rejects.toThrow(/closed/);
  });

  it('keeps every row of a batch or none', async () => {
    const store = await openStore(join(tempDir(), 'jobs.duckdb'));
    const bad = { ...job('bad'), payload: null as unknown as Uint8Array };
    await expect(store.enqueueMany([job('ok'), bad])).rejects.toThrow();
    expect((await store.stats(undefined, T0)).pending).toBe(0);
    const ids = await store.enqueueMany([job('x'), job('y')]);
    expect(ids).toHaveLength(2);
    await store.close();
  });
});

describe('duckdb store: ackMany', () => {
  const claimReq = claimAt(T0);

  it('acks in one call, answering per job in input order', async () => {
    const store = await openStore(join(tempDir(), 'jobs.duckdb'));
    const ids = await store.enqueueMany(['a', 'b', 'c'].map(job));
    const claimed = await store.claimMany(claimReq, 3);
    expect(claimed.map((j) => j.id)).toEqual(ids);
    const fence = { workerId: 'w', attempt: 1 };
    const results = await store.ackMany(
      [
        { id: ids[0]!, result: new Uint8Array([1]), fence },
        { id: ids[1]!, result: null, fence: { workerId: 'other', attempt: 1 } },
        { id: 'not-an-id', result: null },
        { id: ids[2]!, result: null },
      ],
      T0 + 5,
    );
    expect(results).toEqual([true, false, false, true]);
    const rows = await Promise.all(ids.map((id) => store.getJob(id, T0 + 5)));
    expect(rows.map((r) => r!.status)).toEqual(['done', 'claimed', 'done']);
    expect(rows[0]).toMatchObject({ finishedAt: T0 + 5, claimExpiresAt: null });
    expect([...rows[0]!.result!]).toEqual([1]);
    expect(rows[2]!.result).toBeNull();
    // Already done, or listed twice: acked once at most.
    const again = await store.ackMany(
      [
        { id: ids[0]!, result: null },
        { id: ids[1]!, result: null },
        { id: ids[1]!, result: null },
      ],
      T0 + 6,
    );
    expect(again).toEqual([false, true, false]);
    expect(await store.ackMany([], T0)).toEqual([]);
    await store.close();
  });

  it('settles DAG nodes when a run is open', async () => {
    const store = await openStore(join(tempDir(), 'jobs.duckdb'));
    const node = (name: string, upstream: number[]) => ({
      name,
      mode: 'all' as const,
      upstream,
      job: job(name),
    });
    await store.dag.createRun({
      id: 'run-1',
      name: 'etl',
      createdAt: T0,
      nodes: [node('a', []), node('b', []), node('c', [0, 1])],
    });
    const roots = await store.claimMany(claimReq, 10);
    expect(roots.map((j) => j.fnName)).toEqual(['a', 'b']);
    const acks = roots.map((j) => ({ id: j.id, result: null }));
    expect(await store.ackMany(acks, T0 + 1)).toEqual([true, true]);
    const next = await store.claimMany({ ...claimReq, now: T0 + 1 }, 10);
    expect(next.map((j) => j.fnName)).toEqual(['c']);
    await store.close();
  });
});

describe('duckdb store: files that are not DuckDB databases', () => {
  it('names a SQLite file and says which store opens it', async () => {
    const file = join(tempDir(), 'jobs.db');
    const sqlite = new Database(file);
    sqlite.exec('CREATE TABLE t (x)');
    sqlite.close();
    const err = await openStore(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreFileError);
    expect((err as Error).message).toMatch(/SQLite database.*store: 'sqlite'/);
  });

  it('refuses a file of something else', async () => {
    const file = join(tempDir(), 'notes.duckdb');
    writeFileSync(file, 'these are not the rows you are looking for\n');
    const err = await openStore(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreFileError);
    expect((err as Error).message).toContain(file);
  });

  it('refuses an empty location', async () => {
    await expect(openStore('')).rejects.toBeInstanceOf(StoreFileError);
  });
});
