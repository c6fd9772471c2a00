// A handle on a stored DAG run: its status now, waiting for its end, and
// a diagram coloured by node status. Any process with the run id can make
// one with q.dagRun(id); the run itself lives only in the store.

import { setTimeout as sleep } from 'node:timers/promises';
import { decodeResult } from '../queue/codec.js';
import type { DuckQueue } from '../queue/queue.js';
import { publicStatus } from './context.js';
import {
  DagRunNotFoundError,
  DagUnsupportedStoreError,
  DagWaitTimeoutError,
  InvalidDagOptionError,
} from './errors.js';
import { renderMermaid, type MermaidOptions } from './mermaid.js';
import type { DagNodeRow, DagRunRow, DagStore } from './store.js';
import type {
  DagNodeOutcome,
  DagNodeStatus,
  DagRunResult,
  DagRunStatus,
  DagStatusCounts,
} from './types.js';

export interface DagWaitOptions {
  /**
   * Give up after this many ms with DagWaitTimeoutError. Default: no
   * limit.
   */
  timeoutMs?: number;
  /**
   * Longest pause between two looks at the run, in ms. Looks start at
   * 5 ms apart and double up to this. Default 200.
   */
  pollMs?: number;
}

const DEFAULT_POLL_MS = 200;
const FIRST_POLL_MS = 5;
const WAIT_OPTION_NAMES = ['timeoutMs', 'pollMs'];

export class DagRun {
  constructor(
    private readonly queue: DuckQueue,
    readonly id: string,
    readonly name: string,
  ) {}

  /** Attach to a stored run (q.dagRun(id)). */
  static async open(queue: DuckQueue, id: string): Promise<DagRun> {
    const store = queue.store.dag;
    if (!store) throw new DagUnsupportedStoreError(queue.store.name);
    const run = await store.getRun(id);
    if (!run) throw new DagRunNotFoundError(id);
    return new DagRun(queue, id, run.name);
  }

  /** Counts of nodes per status, and the run's state. */
  async status(): Promise<DagRunStatus> {
    const run = await this.row();
    const counts = countNodes(await this.store().listNodes(this.id));
    return {
      runId: this.id,
      name: run.name,
      state: run.state,
      total: run.nodeCount,
      ...counts,
    };
  }

  /**
   * Wait until every node is done, failed or skipped, then return each
   * node's outcome: results of done nodes, errors of failed ones, and for
   * skipped ones the upstream that decided it. A failed node does not make
   * wait() throw: `state` is 'failed' and `failures` says which and why.
   */
  async wait(options: DagWaitOptions = {}): Promise<DagRunResult> {
    const { timeoutMs, pollMs } = checkWaitOptions(this.id, options);
    const deadline = Date.now() + timeoutMs;
    let pause = FIRST_POLL_MS;
    for (;;) {
      const run = await this.row();
      if (run.state !== 'running') return this.result(run);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new DagWaitTimeoutError(this.id, timeoutMs, run.unfinished);
      }
      await sleep(Math.min(pause, left));
      pause = Math.min(pause * 2, pollMs);
    }
  }

  /**
   * Run the failed nodes again, with fresh attempts, and put the nodes
   * their failure skipped back to waiting: the run is running again and
   * ends as if the failures had not happened (done nodes do not run
   * again). Resolves to the number of nodes requeued; 0 when none failed.
   */
  async retry(): Promise<number> {
    await this.row();
    const now = this.queue.options.clock();
    return (await this.store().retryFailed(this.id, now)).length;
  }

  /** Mermaid text of this run, each node coloured by its status now. */
  async toMermaid(
    options: Omit<MermaidOptions, 'statuses'> = {},
  ): Promise<string> {
    await this.row();
    const store = this.store();
    const nodes = await store.listNodes(this.id);
    const edges = await store.listEdges(this.id);
    const upstream = nodes.map(() => [] as string[]);
    for (const [from, to] of edges) upstream[to]!.push(nodes[from]!.name);
    const statuses: Record<string, DagNodeStatus> = {};
    for (const n of nodes) statuses[n.name] = publicStatus(n.state, n.jobStatus);
    return renderMermaid(
      nodes.map((n, i) => ({
        name: n.name,
        dependsOn: upstream[i]!,
        dependencyMode: n.mode,
      })),
      { ...options, statuses },
    );
  }

  private async result(run: DagRunRow): Promise<DagRunResult> {
    const rows = await this.store().listNodes(this.id);
    const nodes: Record<string, DagNodeOutcome> = {};
    const failures: DagRunResult['failures'] = [];
    for (const row of rows) {
      const outcome = nodeOutcome(row);
      nodes[row.name] = outcome;
      if (outcome.status === 'failed') {
        failures.push({ node: row.name, error: outcome.error });
      }
    }
    return {
      runId: this.id,
      name: run.name,
      state: run.state === 'failed' ? 'failed' : 'done',
      counts: countNodes(rows),
      nodes,
      failures,
    };
  }

  private async row(): Promise<DagRunRow> {
    const run = await this.store().getRun(this.id);
    if (!run) throw new DagRunNotFoundError(this.id);
    return run;
  }

  private store(): DagStore {
    const store = this.queue.store;
    if (!store.dag) throw new DagUnsupportedStoreError(store.name);
    return store.dag;
  }
}

function nodeOutcome(row: DagNodeRow): DagNodeOutcome {
  switch (row.state) {
    case 'done':
      return {
        status: 'done',
        jobId: row.jobId!,
        attempts: row.attempts,
        result:
          row.jobStatus === 'done'
            ? decodeResult(row.result, row.jobId!)
            : undefined,
      };
    case 'failed': {
      const e = row.lastError;
      return {
        status: 'failed',
        jobId: row.jobId!,
        attempts: row.attempts,
        error: e
          ? { name: e.name, message: e.message, stack: e.stack }
          : { name: 'Error', message: 'no error was recorded', stack: null },
      };
    }
    case 'skipped':
      return { status: 'skipped', because: row.skippedBy ?? '' };
    default:
      return {
        status: publicStatus(row.state, row.jobStatus) as 'pending' | 'running',
        jobId: row.jobId,
      };
  }
}

function countNodes(rows: readonly DagNodeRow[]): DagStatusCounts {
  const counts: DagStatusCounts = {
    pending: 0,
    running: 0,
    done: 0,
    failed: 0,
    skipped: 0,
  };
  for (const r of rows) counts[publicStatus(r.state, r.jobStatus)] += 1;
  return counts;
}

function checkWaitOptions(
  runId: string,
  options: DagWaitOptions,
): { timeoutMs: number; pollMs: number } {
  const where = `run ${runId} wait()`;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidDagOptionError(where, 'options', 'must be an object');
  }
  for (const key of Object.keys(options)) {
    if (!WAIT_OPTION_NAMES.includes(key)) {
      throw new InvalidDagOptionError(
        where,
        key,
        `is not a wait option; valid options are ${WAIT_OPTION_NAMES.join(', ')}`,
      );
    }
  }
  const timeoutMs = options.timeoutMs ?? Infinity;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0) {
    throw new InvalidDagOptionError(
      where,
      'timeoutMs',
      `must be a number of ms >= 0, got ${String(timeoutMs)}`,
    );
  }
  if (typeof pollMs !== 'number' || !Number.isFinite(pollMs) || pollMs < 1) {
    throw new InvalidDagOptionError(
      where,
      'pollMs',
      `must be a number of ms >= 1, got ${String(pollMs)}`,
    );
  }
  return { timeoutMs, pollMs };
}
