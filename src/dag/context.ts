// How a DAG task gets its upstreams' results. dag.task() stores the call
// as fn(...args, SLOT), where SLOT is a small plain object every serializer
// carries. When a worker loads a job whose last argument is that slot, it
// asks the store which node the job runs and swaps the slot for a
// DagContext. Plain jobs pay one property check.

import { decodeResult } from '../queue/codec.js';
import type { JobStatus } from '../store/types.js';
import { UpstreamResultError } from './errors.js';
import type {
  DagJobRow,
  DagNodeState,
  DagStore,
  DagUpstreamRow,
} from './store.js';
import type { DagContext, DagNodeStatus } from './types.js';

const SLOT_KEY = '__duckqueueDagContext';

/**
 * Where a context comes from: a DuckQueue, or anything that can look a
 * job's node up (an isolate asks its supervising worker).
 */
export interface DagContextSource {
  readonly store: { readonly dag?: Pick<DagStore, 'jobNode'> };
}

/** Placeholder stored as a DAG task's last argument. */
export const DAG_CONTEXT_SLOT: Readonly<Record<string, 1>> = Object.freeze({
  [SLOT_KEY]: 1,
});

export function isDagContextSlot(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<string, unknown>)[SLOT_KEY] === 1
  );
}

/**
 * The arguments to call a loaded job with: unchanged for plain jobs; for a
 * DAG task, the trailing slot replaced by its DagContext. The worker calls
 * this between loading a job and running it.
 */
export async function withDagContext(
  queue: DagContextSource,
  jobId: string,
  args: unknown[],
): Promise<unknown[]> {
  if (args.length === 0 || !isDagContextSlot(args[args.length - 1])) {
    return args;
  }
  const row = await queue.store.dag?.jobNode(jobId);
  // A plain job whose last argument merely looks like the slot.
  if (!row) return args;
  return [...args.slice(0, -1), new TaskContext(row)];
}

/** What callers see for a node, from its stored state and its job. */
export function publicStatus(
  state: DagNodeState,
  jobStatus: JobStatus | null,
): DagNodeStatus {
  switch (state) {
    case 'blocked':
      return 'pending';
    case 'queued':
      return jobStatus === 'claimed' ? 'running' : 'pending';
    default:
      return state;
  }
}

class TaskContext implements DagContext {
  readonly runId: string;
  readonly dag: string;
  readonly node: string;
  readonly upstreamNames: readonly string[];
  private readonly rows: Map<string, DagUpstreamRow>;
  private readonly decoded = new Map<string, unknown>();

  constructor(row: DagJobRow) {
    this.runId = row.runId;
    this.dag = row.dag;
    this.node = row.node;
    this.upstreamNames = Object.freeze(row.upstream.map((u) => u.name));
    this.rows = new Map(row.upstream.map((u) => [u.name, u]));
  }

  upstream<T = unknown>(name: string): T {
    const row = this.row(name);
    const status = publicStatus(row.state, row.jobStatus);
    if (status !== 'done') {
      throw new UpstreamResultError(
        this.node,
        name,
        `it is ${status}, so it has no result. In 'any' mode check ` +
          `ctx.upstreamStatus('${name}') first.`,
      );
    }
    if (row.jobStatus === null) {
      throw new UpstreamResultError(
        this.node,
        name,
        'its job row is gone (purged?); purge finished jobs only after ' +
          'their DAG runs end.',
      );
    }
    if (!this.decoded.has(name)) {
      this.decoded.set(name, decodeResult(row.result, `(task '${name}')`));
    }
    return this.decoded.get(name) as T;
  }

  upstreamStatus(name: string): DagNodeStatus {
    const row = this.row(name);
    return publicStatus(row.state, row.jobStatus);
  }

  upstreamResults(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const name of this.upstreamNames) {
      if (this.upstreamStatus(name) === 'done') out[name] = this.upstream(name);
    }
    return out;
  }

  private row(name: string): DagUpstreamRow {
    const row = this.rows.get(name);
    if (!row) {
      const known = this.upstreamNames.length
        ? this.upstreamNames.map((n) => `'${n}'`).join(', ')
        : 'none';
      throw new UpstreamResultError(
        this.node,
        name,
        `'${name}' is not a direct upstream of '${this.node}' (its ` +
          `upstreams: ${known}). Add it to dependsOn.`,
      );
    }
    return row;
  }
}
