// An attacker who can write rows in the queue database plants payloads next
// to honest jobs. Through the real SQLite queue and a real worker: every
// planted job ends `failed` with the policy error stored, no honest job is
// lost, nothing the attacker wrote runs, and the worker keeps working.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckQueue } from '../src/queue/queue.js';
import { InvalidOptionError } from '../src/queue/errors.js';
import { createSerializer, registerTask } from '../src/serialize/index.js';
import { Worker } from '../src/worker/worker.js';
import Database from 'better-sqlite3';
import { plantRow } from './helpers/plant-row.js';
import {
  canaryFired,
  createHostileContext,
  prototypeSnapshot,
  type HostileContext,
} from './fixtures/hostile/context.js';
import {
  byReference,
  byTaskName,
  sourcePayload,
  text,
} from './fixtures/hostile/payloads.js';

let ctx: HostileContext;
let dir: string;

const sum = (a: number, b: number) => a + b;

/** A source payload whose class body would set the canary on load. */
function canarySource(): Uint8Array {
  return sourcePayload({
    fn: { src: `class Job { static { globalThis.${ctx.canaryGlobal} = 1; } }` },
  });
}

beforeAll(() => {
  ctx = createHostileContext();
  dir = mkdtempSync(path.join(tmpdir(), 'dq-security-queue-'));
  registerTask('sum', sum);
});

afterAll(() => {
  ctx.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** What an attacker with the database file does: INSERT a row. */
function plant(dbFile: string, payload: Uint8Array, format: string): string {
  return plantRow(dbFile, payload, format, { priority: 100, maxAttempts: 3 });
}

describe('a queue with a policy, attacked through its database', () => {
  it('fails every planted job with the policy error and runs every honest one', async () => {
    const dbFile = path.join(dir, 'signed.db');
    const q = await DuckQueue.open(dbFile, {
      serialization: 'json',
      serializerOptions: { root: ctx.root },
      policy: { signingKey: ctx.signingKey, strict: true },
    });
    const prototypesBefore = prototypeSnapshot();
    const honest = [await q.enqueue(sum, { args: [1, 2] })];
    const planted = {
      unsignedExec: plant(
        dbFile,
        byReference('node:child_process', 'execSync', [ctx.canaryCommand]),
        'v8',
      ),
      attackerKey: plant(
        dbFile,
        byTaskName('sum', [40, 2], { id: 'attacker', secret: 'attacker-secret-0123456789' }),
        'json',
      ),
      unsignedHonestLooking: plant(dbFile, byTaskName('sum', [5, 5]), 'json'),
      garbage: plant(dbFile, text('not a payload at all'), 'json'),
    };
    honest.push(await q.enqueue(sum, { args: [20, 22] }));

    const worker = new Worker(q, { concurrency: 1, pollMs: 10 });
    await worker.run({ untilEmpty: true });

    expect(await q.result(honest[0]!)).toBe(3);
    expect(await q.result(honest[1]!)).toBe(42);
    const expectations: Record<keyof typeof planted, [string, RegExp]> = {
      // A 'json' queue loads json rows only: refused before the signature.
      unsignedExec: ['PolicyViolationError', /does not load 'v8' payloads/],
      attackerKey: ['SignatureError', /'attacker'/],
      unsignedHonestLooking: ['SignatureError', /not signed/],
      garbage: ['SignatureError', /not a signed duckqueue envelope/],
    };
    for (const [which, id] of Object.entries(planted)) {
      const job = await q.getJob(id);
      const [name, message] = expectations[which as keyof typeof planted];
      expect(job.status, which).toBe('failed');
      expect(job.attempts, which).toBe(1);
      expect(job.lastError?.name, which).toBe(name);
      expect(job.lastError?.message, which).toMatch(message);
    }
    // Nothing lost: every row is accounted for in a terminal state.
    expect(await q.stats()).toMatchObject({ done: 2, failed: 4, pending: 0 });
    expect(canaryFired(ctx)).toBe(false);
    expect(prototypeSnapshot()).toBe(prototypesBefore);
    await q.close();
  });

  it('refuses by allowModules and strict even when the attacker holds no key', async () => {
    const dbFile = path.join(dir, 'unsigned.db');
    const q = await DuckQueue.open(dbFile, {
      serialization: 'v8',
      serializerOptions: { root: ctx.root },
      policy: { signingKey: null, strict: true, allowModules: ['jobs'] },
    });
    const exec = plant(
      dbFile,
      byReference('node:child_process', 'execSync', [ctx.canaryCommand]),
      'v8',
    );
    const escape = plant(dbFile, byReference(ctx.evilModule, 'run', []), 'v8');
    const proto = plant(
      dbFile,
      byTaskName('sum', text('{"json":[{"__proto__":{"polluted":1}}, 1]}')),
      'json',
    );
    const worker = new Worker(q, { concurrency: 2, pollMs: 10 });
    await worker.run({ untilEmpty: true });
    for (const [id, rule] of [
      [exec, /policy\.denyNames/],
      [escape, /policy\.allowModules.*outside the root/],
      [proto, /policy\.denyNames.*'__proto__'/],
    ] as const) {
      const job = await q.getJob(id);
      expect(job.status).toBe('failed');
      expect(job.lastError?.name).toBe('PolicyViolationError');
      expect(job.lastError?.message).toMatch(rule);
    }
    expect(canaryFired(ctx)).toBe(false);
    await q.close();
  });

  it("keeps planted source rows out of a 'json' queue", async () => {
    // A row says which format it is, and an attacker writes the row: a
    // queue loads only the formats its own serialization writes, so a
    // 'json' queue refuses a 'source' row without strict or a key.
    const dbFile = path.join(dir, 'json-formats.db');
    const q = await DuckQueue.open(dbFile, {
      serialization: 'json',
      serializerOptions: { root: ctx.root },
      policy: { signingKey: null },
    });
    const planted = plant(dbFile, canarySource(), 'source');
    const honest = await q.enqueue(sum, { args: [1, 1] });
    await new Worker(q, { concurrency: 1, pollMs: 10 }).run({ untilEmpty: true });
    const job = await q.getJob(planted);
    expect(job.status).toBe('failed');
    expect(job.lastError?.name).toBe('PolicyViolationError');
    expect(job.lastError?.message).toMatch(/does not load 'source' payloads/);
    expect(await q.result(honest)).toBe(2);
    expect(canaryFired(ctx)).toBe(false);
    await q.close();
  });

  it('refuses a row whose format column hides a source payload', async () => {
    // The row says 'v8'; the payload is 'source'. A Serializer instance
    // (here auto) reads both formats, so the column alone must not decide.
    // Isolates decode in another thread, from the serialization's name.
    for (const isolation of ['none', 'thread'] as const) {
      const dbFile = path.join(dir, `disguised-${isolation}.db`);
      const serializerOptions = { root: ctx.root, policy: { signingKey: null } };
      const q = await DuckQueue.open(dbFile, {
        ...(isolation === 'none'
          ? { serialization: createSerializer('auto', serializerOptions) }
          : { serialization: 'auto' as const, serializerOptions }),
        acceptFormats: ['v8', 'json'],
      });
      const planted = plant(dbFile, canarySource(), 'v8');
      await new Worker(q, { concurrency: 1, pollMs: 10, isolation }).run({
        untilEmpty: true,
      });
      const job = await q.getJob(planted);
      expect(job.status).toBe('failed');
      expect(job.lastError?.name).toBe('PolicyViolationError');
      expect(job.lastError?.message).toMatch(
        /row says format 'v8' but its payload is 'source'/,
      );
      expect(canaryFired(ctx)).toBe(false);
      await q.close();
    }
  });

  it('refuses source rows by strict when acceptFormats lets them in', async () => {
    const dbFile = path.join(dir, 'json-strict.db');
    const q = await DuckQueue.open(dbFile, {
      serialization: 'json',
      acceptFormats: ['json', 'source'],
      serializerOptions: { root: ctx.root },
      policy: { signingKey: null, strict: true },
    });
    const planted = plant(dbFile, canarySource(), 'source');
    await new Worker(q, { concurrency: 1, pollMs: 10 }).run({ untilEmpty: true });
    const job = await q.getJob(planted);
    expect(job.status).toBe('failed');
    expect(job.lastError?.message).toMatch(/policy\.strict/);
    expect(canaryFired(ctx)).toBe(false);
    await q.close();
  });

  it('rejects a malformed acceptFormats option', async () => {
    await expect(
      DuckQueue.open(path.join(dir, 'bad-formats.db'), {
        acceptFormats: [] as string[],
      }),
    ).rejects.toThrow(/acceptFormats: expected a non-empty array/);
  });

  it('keeps a running worker alive and working after a refusal', async () => {
    const dbFile = path.join(dir, 'alive.db');
    const q = await DuckQueue.open(dbFile, {
      serialization: 'json',
      policy: { signingKey: ctx.signingKey },
    });
    const worker = new Worker(q, { concurrency: 1, pollMs: 10 });
    const failures: string[] = [];
    worker.on('job:failed', (e) => {
      failures.push((e.error as Error).name);
    });
    const running = worker.run();
    const planted = plant(dbFile, byTaskName('sum', [1, 1]), 'json');
    const after = await q.enqueue(sum, { args: [2, 3] });
    expect(await q.result(after, { waitMs: 20_000 })).toBe(5);
    expect((await q.getJob(planted)).status).toBe('failed');
    expect(failures).toEqual(['SignatureError']);
    await worker.stop();
    await running;
    await q.close();
  });

  it('signs what it enqueues, so a worker with the same key accepts it', async () => {
    const dbFile = path.join(dir, 'roundtrip.db');
    const q = await DuckQueue.open(dbFile, {
      serialization: 'json',
      policy: { signingKey: ctx.signingKey },
    });
    const id = await q.enqueue(sum, { args: [4, 4] });
    const stored = new Database(dbFile)
      .prepare('SELECT payload FROM jobs WHERE id = ?')
      .pluck()
      .get(Number(id)) as Buffer;
    const reader = createSerializer('json', { policy: { signingKey: ctx.signingKey } });
    const call = await reader.deserialize(stored);
    expect(call.fn(...call.args)).toBe(8);
    const otherKey = createSerializer('json', {
      policy: { signingKey: 'a-different-secret-0123456789' },
    });
    await expect(otherKey.deserialize(stored)).rejects.toThrow(/not among the accepted keys/);
    await q.close();
  });

  it('rejects a policy next to a ready-made Serializer, naming the fix', async () => {
    await expect(
      DuckQueue.open(path.join(dir, 'both.db'), {
        serialization: createSerializer('json'),
        policy: { strict: true },
      }),
    ).rejects.toThrow(InvalidOptionError);
  });
});
