// What each serializer lets a payload do on load, and what the policies
// cost. Three parts, all from real attempts in this process:
//   1. the hostile catalogue: every crafted payload, and the typed error
//      that refused it;
//   2. the attack matrix: attack x backend x policy level, each payload
//      loaded and (if it loads) called, canaries telling whether code ran;
//   3. the cost of signing and of the policy checks on a ~1 KB argument,
//      measured round by round in this run against the same work unsigned:
//      per queued job (enqueue, claim, load, run, ack on a SQLite queue),
//      where the target applies, and per serializer round trip alone.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { typicalJobArgument } from '../src/bench/inputs.js';
import {
  measureAgainst,
  measureInterleaved,
  type Operation,
} from '../src/bench/measure.js';
import { exact } from '../src/bench/metrics.js';
import type { Metric, TimingMetric } from '../src/bench/results.js';
import { summarizeEvent } from '../src/bench/shapes.js';
import { defineSuite, runSuiteIfMain, type SuiteOutput } from '../src/bench/suite.js';
import { DuckQueue } from '../src/queue/queue.js';
import { PolicyViolationError, SerializationError } from '../src/serialize/errors.js';
import { createSerializer, registerTask } from '../src/serialize/index.js';
import { ruleOf, type PolicyOptions } from '../src/serialize/policy.js';
import type { Serializer } from '../src/serialize/types.js';
import {
  ATTACKS,
  attempt,
  BACKENDS,
  buildAttackPayloads,
  POLICY_LEVELS,
  type Outcome,
} from '../test/fixtures/hostile/attacks.js';
import { hostileCases } from '../test/fixtures/hostile/cases.js';
import {
  canaryFired,
  createHostileContext,
  resetCanary,
  type HostileContext,
} from '../test/fixtures/hostile/context.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const attackerJobs = pathToFileURL(
  path.join(repoRoot, 'test/fixtures/hostile/attacker-jobs.mjs'),
).href;
const SIGNING_KEY = 'security-suite-signing-secret-0123456789';
const COST_TASK = 'bench.security.summarizeEvent';

interface CatalogueRow {
  id: string;
  attack: string;
  loader: string;
  refused: boolean;
  error: string;
  rule?: string;
  canary: boolean;
}

interface MatrixRow {
  attack: string;
  title: string;
  backend: string;
  level: string;
  outcome: Outcome;
}

interface CostRow {
  backend: string;
  variant: string;
  reference: string;
  medianNs: number;
  ratio: number;
  rme: number;
  n: number;
}

async function runCatalogue(ctx: HostileContext): Promise<CatalogueRow[]> {
  registerTask('noop', (...args: unknown[]) => args.length);
  const rows: CatalogueRow[] = [];
  for (const hostile of hostileCases) {
    resetCanary(ctx);
    const row: CatalogueRow = {
      id: hostile.id,
      attack: hostile.attack,
      loader: hostile.loader,
      refused: false,
      error: '',
      canary: false,
    };
    try {
      const serializer = createSerializer(hostile.loader, {
        root: ctx.root,
        policy: hostile.policy?.(ctx) ?? { signingKey: null },
      });
      await serializer.deserialize(hostile.build(ctx));
      row.error = 'loaded';
    } catch (error) {
      const e = error as Error;
      const expected = hostile.expect.error;
      row.refused =
        e instanceof SerializationError &&
        (e.name === expected ||
          (expected === 'PolicyViolationError' && e instanceof PolicyViolationError));
      row.error = e.name;
      const rule = ruleOf(e);
      if (rule) row.rule = rule;
    }
    row.canary = canaryFired(ctx);
    rows.push(row);
  }
  resetCanary(ctx);
  return rows;
}

async function runMatrix(ctx: HostileContext): Promise<MatrixRow[]> {
  const payloads = await buildAttackPayloads(ctx, attackerJobs);
  const rows: MatrixRow[] = [];
  for (const attack of ATTACKS) {
    for (const backend of BACKENDS) {
      for (const level of POLICY_LEVELS) {
        const outcome = await attempt(payloads[attack.id]?.[backend], backend, level, ctx);
        rows.push({ attack: attack.id, title: attack.title, backend, level, outcome });
      }
    }
  }
  return rows;
}

/** Entries of a real push event, up to about 1 KB of JSON. */
function oneKilobyteArgument(): Record<string, unknown> {
  const event = typicalJobArgument();
  const picked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    const next = { ...picked, [key]: value };
    if (JSON.stringify(next).length > 1024) continue;
    Object.assign(picked, { [key]: value });
  }
  return picked;
}

function roundTrip(serializer: Serializer, args: unknown[]): Operation['run'] {
  const call = { fn: summarizeEvent, args };
  return async () => {
    const bytes = serializer.serialize(call);
    const loaded = await serializer.deserialize(bytes);
    return loaded.args.length;
  };
}

async function measureCost(
  ctx: { settings: { timing: Parameters<typeof measureAgainst>[2] } },
  metrics: Metric[],
  progress: (task: string) => void,
): Promise<{ rows: CostRow[]; payloadBytes: Record<string, number> }> {
  registerTask(COST_TASK, summarizeEvent);
  const args = [oneKilobyteArgument()];
  const variants: Record<string, PolicyOptions> = {
    unsigned: { signingKey: null },
    open: {
      signingKey: null,
      allowModules: [/.*/],
      denyNames: [],
      maxDepth: 10_000_000,
      maxPayloadBytes: 2 ** 31,
    },
    signed: { signingKey: SIGNING_KEY },
    recommended: {
      signingKey: SIGNING_KEY,
      strict: true,
      allowModules: ['src/bench'],
    },
  };
  // variant -> what it is compared with
  const comparisons: Array<[string, string]> = [
    ['signed', 'unsigned'],
    ['recommended', 'unsigned'],
    ['unsigned', 'open'],
  ];
  const rows: CostRow[] = [];
  const payloadBytes: Record<string, number> = {};
  for (const backend of ['json', 'v8', 'source'] as const) {
    const serializers: Record<string, Serializer> = {};
    try {
      for (const [name, policy] of Object.entries(variants)) {
        if (backend === 'source' && name === 'recommended') continue;
        serializers[name] = createSerializer(backend, { root: repoRoot, policy });
      }
    } catch {
      continue; // backend not in this build
    }
    payloadBytes[`${backend}.unsigned`] = serializers.unsigned!.serialize({
      fn: summarizeEvent,
      args,
    }).length;
    payloadBytes[`${backend}.signed`] = serializers.signed!.serialize({
      fn: summarizeEvent,
      args,
    }).length;
    for (const [variant, reference] of comparisons) {
      if (!serializers[variant] || !serializers[reference]) continue;
      progress(`round trip ${backend}: ${variant} vs ${reference}`);
      const id = `security.roundtrip.${backend}.${variant}`;
      const { task } = await measureAgainst(
        {
          id,
          label: `${backend} round trip, ${variant}`,
          tags: [backend],
          run: roundTrip(serializers[variant]!, args),
        },
        {
          id: `security.roundtrip.${backend}.${reference}.vs-${variant}`,
          tags: [backend],
          run: roundTrip(serializers[reference]!, args),
        },
        ctx.settings.timing,
      );
      metrics.push(task);
      rows.push(costRow(backend, variant, reference, task));
    }
  }
  return { rows, payloadBytes };
}

// One job's whole life on a SQLite queue, as a worker would live it.
function queuedJob(queue: DuckQueue, args: unknown[]): Operation['run'] {
  return async () => {
    await queue.enqueue(summarizeEvent, { args });
    const job = await queue.claim({ workerId: 'security-bench' });
    if (!job) throw new Error('the job just enqueued could not be claimed');
    const call = await queue.load(job);
    await queue.ack(job, call.fn(...call.args));
  };
}

/** Signed against unsigned, per queued job: the cost a user pays. */
async function measureQueuedCost(
  ctx: {
    mode: 'quick' | 'full';
    settings: { timing: Parameters<typeof measureAgainst>[2] };
  },
  metrics: Metric[],
  progress: (task: string) => void,
): Promise<CostRow[]> {
  const args = [oneKilobyteArgument()];
  const rows: CostRow[] = [];
  // A job is three database commits, and disk jitter outlasts one job:
  // signed and unsigned jobs alternate one by one (measureInterleaved).
  const timing = {
    rounds: Math.max(ctx.settings.timing.rounds, 12),
    pairsPerRound: ctx.mode === 'quick' ? 150 : 400,
    warmupPairs: 100,
  };
  for (const backend of ['json', 'v8', 'source'] as const) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'duckqueue-security-bench-'));
    const queues: DuckQueue[] = [];
    try {
      const open = async (file: string, policy: PolicyOptions) => {
        const queue = await DuckQueue.open(path.join(dir, file), {
          serialization: backend,
          serializerOptions: { root: repoRoot },
          policy,
        });
        queues.push(queue);
        return queue;
      };
      const signed = await open('signed.db', { signingKey: SIGNING_KEY });
      const unsigned = await open('unsigned.db', { signingKey: null });
      progress(`queued job ${backend}: signed vs unsigned`);
      const { task } = await measureInterleaved(
        {
          id: `security.queued.${backend}.signed`,
          label: `${backend} queued job, signed`,
          tags: [backend],
          run: queuedJob(signed, args),
        },
        {
          id: `security.queued.${backend}.unsigned.vs-signed`,
          tags: [backend],
          run: queuedJob(unsigned, args),
        },
        timing,
      );
      metrics.push(task);
      rows.push(costRow(backend, 'signed', 'unsigned', task));
    } finally {
      for (const queue of queues) await queue.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

function costRow(
  backend: string,
  variant: string,
  reference: string,
  metric: TimingMetric,
): CostRow {
  return {
    backend,
    variant,
    reference,
    medianNs: metric.stats.median,
    ratio: metric.ratio!.stats.median,
    rme: metric.ratio!.stats.rme,
    n: metric.ratio!.stats.n,
  };
}

// ---- rendering ------------------------------------------------------------

const SHOW: Record<Outcome['outcome'], string> = {
  blocked: 'blocked',
  ran: '**RAN**',
  accepted: 'accepted',
  'n/a': 'n/a',
};

function cell(outcome: Outcome): string {
  if (outcome.outcome === 'blocked') {
    return `blocked (${outcome.rule ? `policy.${outcome.rule}` : outcome.error})`;
  }
  return SHOW[outcome.outcome];
}

function renderMatrix(rows: MatrixRow[]): string[] {
  const lines = [
    '## Attack matrix',
    '',
    'Each payload is what an attacker with write access to the queue ' +
      'database (but not the signing key) would store. It was loaded by the ' +
      'serializer named in the column under each policy level and, if it ' +
      'loaded, called. **RAN** means a canary fired (a file the payload ' +
      'writes, a global it sets, or a changed prototype): attacker code ran. ' +
      '_accepted_ means the payload loaded and the job ran without firing a ' +
      'canary (for a forged or tampered job, that is the harm). _n/a_: the ' +
      'format cannot express the attack.',
    '',
    'Policy levels: **open** = no allow or deny lists, no useful limits ' +
      '(what the format itself permits; paths outside the root stay ' +
      'refused); **default** = `{}` (no signing key); **recommended** = ' +
      '`{ signingKey, strict: true, allowModules }`, the attacker without ' +
      'the key; **key-leaked** = the same policy, every payload signed ' +
      'with the stolen key (what the other rules still stop).',
    '',
  ];
  for (const level of POLICY_LEVELS) {
    lines.push(`### Policy: ${level}`, '');
    lines.push(`| attack | ${BACKENDS.join(' | ')} |`);
    lines.push(`| --- | ${BACKENDS.map(() => '---').join(' | ')} |`);
    for (const attack of ATTACKS) {
      const cells = BACKENDS.map((backend) => {
        const row = rows.find(
          (r) => r.attack === attack.id && r.backend === backend && r.level === level,
        );
        return row ? cell(row.outcome) : '';
      });
      lines.push(`| ${attack.title} | ${cells.join(' | ')} |`);
    }
    lines.push('');
  }
  const ran = rows.filter((r) => r.outcome.outcome === 'ran');
  lines.push(
    `Code ran in ${ran.length} of ${rows.length} attempts: ` +
      (ran.length
        ? ran.map((r) => `${r.attack} via ${r.backend} (${r.level})`).join(', ')
        : 'none') +
      '.',
    '',
  );
  return lines;
}

function renderCost(
  queued: CostRow[],
  rows: CostRow[],
  payloadBytes: Record<string, number>,
): string[] {
  const lines = [
    '## Cost of signing and policy checks',
    '',
    '### Per queued job',
    '',
    'One job of `summarizeEvent` with a ~1 KB argument, through a SQLite ' +
      'queue: enqueue (serialize, sign, insert), claim, load (verify, ' +
      'deserialize), run and ack. Jobs on a signed queue and on an ' +
      'unsigned one alternate one by one; per round, ratio = median signed ' +
      'job / median unsigned job. Target for signing: at most 1.10.',
    '',
    '| backend | median per job | ratio to unsigned | ± | n |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const r of queued) {
    const verdict = r.ratio <= 1.1 ? ' ✓' : ' ✗ over target';
    lines.push(
      `| ${r.backend} | ${(r.medianNs / 1000).toFixed(1)} µs | ` +
        `${r.ratio.toFixed(3)}${verdict} | ${r.rme.toFixed(1)}% | ${r.n} |`,
    );
  }
  lines.push(
    '',
    '### Per serializer round trip',
    '',
    'The serializer alone, with no queue around it. Signing adds ' +
      `${addedMicros(rows)} per round trip here (one HMAC to sign, one to ` +
      `verify) and ${addedMicros(queued)} per queued job: about the same ` +
      'work, weighed against a much shorter operation.',
    '',
    'Serialize + deserialize round trip of `summarizeEvent` with a real ' +
      `push-event argument cut to about 1 KB (payload bytes: ${Object.entries(
        payloadBytes,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}). Ratio = variant median / reference median, round ` +
      'by round in this run.',
    '',
    '| backend | variant | compared with | median round trip | ratio | ± | n |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const r of rows) {
    lines.push(
      `| ${r.backend} | ${r.variant} | ${r.reference} | ` +
        `${(r.medianNs / 1000).toFixed(2)} µs | ${r.ratio.toFixed(3)} | ` +
        `${r.rme.toFixed(1)}% | ${r.n} |`,
    );
  }
  lines.push('');
  return lines;
}

// Signed median minus its reference, from each signed row: "a–b µs".
function addedMicros(rows: CostRow[]): string {
  const added = rows
    .filter((r) => r.variant === 'signed')
    .map((r) => (r.medianNs - r.medianNs / r.ratio) / 1000);
  if (added.length === 0) return 'an unmeasured amount';
  const low = Math.min(...added).toFixed(1);
  const high = Math.max(...added).toFixed(1);
  return low === high ? `${low} µs` : `${low}–${high} µs`;
}

function renderCatalogue(rows: CatalogueRow[]): string[] {
  const refused = rows.filter((r) => r.refused && !r.canary).length;
  const lines = [
    '## Hostile catalogue',
    '',
    `${refused} of ${rows.length} crafted payloads (test/fixtures/hostile/) ` +
      'were refused with a typed error and fired no canary.',
    '',
    '| case | attack | loader | error | rule |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.id} | ${r.attack} | ${r.loader} | ${r.canary ? '**CANARY** ' : ''}` +
        `${r.error} | ${r.rule ?? ''} |`,
    );
  }
  lines.push('');
  return lines;
}

const suite = defineSuite({
  name: 'security',
  title: 'Security',
  async run(ctx): Promise<SuiteOutput> {
    const hostile = createHostileContext();
    try {
      const metrics: Metric[] = [];
      ctx.progress('hostile catalogue', 0, 3);
      const catalogue = await runCatalogue(hostile);
      ctx.progress('attack matrix', 1, 3);
      const matrix = await runMatrix(hostile);
      for (const row of matrix) {
        metrics.push(
          exact(
            `security.matrix.${row.backend}.${row.level}.${row.attack}`,
            row.outcome.outcome,
          ),
        );
      }
      const refused = catalogue.filter((r) => r.refused && !r.canary).length;
      metrics.push(exact('security.catalogue.refused', refused));
      metrics.push(exact('security.catalogue.cases', catalogue.length));
      ctx.progress('cost of signing and checks', 2, 3);
      registerTask(COST_TASK, summarizeEvent);
      const onTask = (task: string) => ctx.progress(task, 2, 3);
      const queued = await measureQueuedCost(ctx, metrics, onTask);
      const cost = await measureCost(ctx, metrics, onTask);
      const markdown = [
        ...renderMatrix(matrix),
        ...renderCost(queued, cost.rows, cost.payloadBytes),
        ...renderCatalogue(catalogue),
      ].join('\n');
      const data = { catalogue, matrix, cost: { ...cost, queued } };
      if (refused !== catalogue.length) {
        return {
          status: 'failed',
          reason: `${catalogue.length - refused} hostile payloads were not refused cleanly`,
          metrics,
          data,
          markdown,
        };
      }
      return { metrics, data, markdown };
    } finally {
      hostile.cleanup();
    }
  },
});

export default suite;
runSuiteIfMain(suite, import.meta.url);
