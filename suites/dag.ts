// DAG scheduling overhead: the same no-op jobs run once as plain jobs and
// once as the nodes of a DAG (a fan-out with a join, and a chain), one
// worker, SQLite, in the same rounds. The ratio is the share of plain-job
// throughput a DAG keeps; the difference of the inverse rates is what
// building, storing and settling costs per node.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { noopJob } from '../src/bench/jobs.js';
import {
  measureThroughputAgainst,
  type BatchOperation,
} from '../src/bench/measure.js';
import { exact } from '../src/bench/metrics.js';
import type { Metric, TimingMetric } from '../src/bench/results.js';
import {
  defineSuite,
  runSuiteIfMain,
  type SuiteOutput,
} from '../src/bench/suite.js';
// Types only: loaded in run(), so a missing module fails with a reason.
import type { DuckQueue } from '../src/queue/queue.js';
import type { Worker } from '../src/worker/worker.js';

const PLAIN_ID = 'dag.sqlite.plainJobs.jobsPerSec';
const SERIALIZATION = 'v8';

type Shape = 'fanout' | 'chain';

interface Api {
  DuckQueue: typeof DuckQueue;
  Worker: typeof Worker;
}

/** A fresh queue file per round, so rounds do not grow one database. */
function freshQueue(api: Api) {
  let dir = '';
  let queue: DuckQueue | undefined;
  return {
    async open() {
      dir = mkdtempSync(path.join(os.tmpdir(), 'duckqueue-dag-bench-'));
      queue = await api.DuckQueue.open(path.join(dir, 'dag.db'), {
        serialization: SERIALIZATION,
      });
    },
    get queue(): DuckQueue {
      return queue!;
    },
    async close() {
      await queue?.close();
      queue = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function drain(api: Api, q: DuckQueue, expected: number, what: string) {
  const summary = await new api.Worker(q, { concurrency: 1 }).run({
    untilEmpty: true,
  });
  if (summary.done !== expected) {
    throw new Error(
      `${what}: ${summary.done} of ${expected} jobs done ` +
        `(${summary.failed} failed)`,
    );
  }
  return summary.done;
}

function plainJobs(api: Api, nodes: number): BatchOperation {
  const box = freshQueue(api);
  const items = Array.from({ length: nodes }, () => ({ fn: noopJob }));
  return {
    id: PLAIN_ID,
    label: `${nodes} plain jobs`,
    tags: ['sqlite', SERIALIZATION],
    prepare: () => box.open(),
    async run() {
      await box.queue.enqueueBatch(items);
      return drain(api, box.queue, nodes, 'plain jobs');
    },
    cleanup: () => box.close(),
  };
}

/**
 * fanout: root -> (nodes - 2) leaves -> one join. chain: nodes in a line,
 * the worst case, where every node waits for the ack of the one before.
 */
function dagNodes(api: Api, shape: Shape, nodes: number): BatchOperation {
  const box = freshQueue(api);
  return {
    id: `dag.sqlite.${shape}.nodesPerSec`,
    label: `DAG ${shape} of ${nodes} nodes`,
    tags: ['sqlite', SERIALIZATION, 'dag'],
    prepare: () => box.open(),
    async run() {
      const dag = box.queue.dag(`bench-${shape}`);
      if (shape === 'fanout') {
        dag.task(noopJob, { name: 'root' });
        const leaves: string[] = [];
        for (let i = 0; i < nodes - 2; i++) {
          leaves.push(`leaf${i}`);
          dag.task(noopJob, { name: `leaf${i}`, dependsOn: 'root' });
        }
        dag.task(noopJob, { name: 'join', dependsOn: leaves });
      } else {
        for (let i = 0; i < nodes; i++) {
          dag.task(noopJob, {
            name: `n${i}`,
            dependsOn: i === 0 ? [] : [`n${i - 1}`],
          });
        }
      }
      const run = await dag.submit();
      const done = await drain(api, box.queue, nodes, `DAG ${shape}`);
      const outcome = await run.wait({ timeoutMs: 0 });
      if (outcome.state !== 'done') {
        throw new Error(`DAG ${shape} ended ${outcome.state}`);
      }
      return done;
    },
    cleanup: () => box.close(),
  };
}

/** Microseconds per node that the DAG adds over a plain job (medians). */
function overheadMicros(dag: TimingMetric, plain: TimingMetric): number {
  return (1 / dag.stats.median - 1 / plain.stats.median) * 1e6;
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

function page(
  nodes: number,
  rounds: number,
  rows: { shape: Shape; metric: TimingMetric; plain: TimingMetric }[],
): string {
  const lines = [
    `No-op tasks, one worker (concurrency 1), SQLite, '${SERIALIZATION}' ` +
      `serializer; ${nodes} nodes per DAG against ${nodes} plain jobs ` +
      `(enqueueBatch) in the same rounds; ${rounds} rounds, medians ` +
      `with relative margin of error. Both sides include serializing the ` +
      `calls and running them to the end.`,
    '',
    '| shape | DAG nodes/s | plain jobs/s | DAG / plain | overhead per node |',
    '|---|---|---|---|---|',
  ];
  for (const { shape, metric, plain } of rows) {
    const ratio = metric.ratio!.stats;
    lines.push(
      `| ${shape} | ${fmt(metric.stats.median)} ± ${fmt(metric.stats.rme, 1)}% ` +
        `| ${fmt(plain.stats.median)} ± ${fmt(plain.stats.rme, 1)}% ` +
        `| ${fmt(ratio.median, 2)} (n=${ratio.n}) ` +
        `| ${fmt(overheadMicros(metric, plain), 1)} µs |`,
    );
  }
  lines.push(
    '',
    'The fan-out enqueues its leaves in the ack of the root, in one ' +
      'transaction; the chain pays one extra settle step per node. ' +
      'Overhead per node = 1/(DAG rate) − 1/(plain rate).',
  );
  return lines.join('\n');
}

const suite = defineSuite({
  name: 'dag',
  title: 'DAG scheduling',
  async run(ctx): Promise<SuiteOutput> {
    const nodes = ctx.mode === 'quick' ? 1_000 : 5_000;
    const rounds = ctx.settings.queueRounds;
    ctx.progress('loading the queue');
    const [queueModule, workerModule] = await Promise.all([
      import('../src/queue/queue.js'),
      import('../src/worker/worker.js'),
    ]);
    const api: Api = {
      DuckQueue: queueModule.DuckQueue,
      Worker: workerModule.Worker,
    };
    const metrics: Metric[] = [];
    const rows: { shape: Shape; metric: TimingMetric; plain: TimingMetric }[] =
      [];
    const shapes: Shape[] = ['fanout', 'chain'];
    for (const [i, shape] of shapes.entries()) {
      ctx.progress(`${shape} of ${nodes} nodes`, i, shapes.length);
      const timed = await measureThroughputAgainst(
        dagNodes(api, shape, nodes),
        plainJobs(api, nodes),
        rounds,
      );
      metrics.push(timed.task);
      if (i === 0) metrics.push(timed.reference);
      rows.push({ shape, metric: timed.task, plain: timed.reference });
    }
    metrics.push(exact('dag.nodesPerRound', nodes, { unit: 'nodes' }));
    // Derived from medians, so it varies run to run: data, not a metric
    // the gate would hold exact.
    const data = {
      nodes,
      rounds,
      overheadMicrosPerNode: Object.fromEntries(
        rows.map((r) => [r.shape, overheadMicros(r.metric, r.plain)]),
      ),
    };
    return { metrics, data, markdown: page(nodes, rounds, rows) };
  },
});

export default suite;
runSuiteIfMain(suite, import.meta.url);
