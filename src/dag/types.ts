// Public types of DAG workflows: task options, statuses, the context a
// task receives, and what run.status() and run.wait() return.

/**
 * When a task with several upstreams may start.
 * - `all` (default): every upstream finished `done`. If any upstream
 *   fails or is skipped, this task is skipped.
 * - `any`: the first upstream to finish `done` starts it. It is skipped
 *   only when every upstream failed or was skipped.
 */
export type DependencyMode = 'all' | 'any';

export const DEPENDENCY_MODES: readonly DependencyMode[] = ['all', 'any'];

/**
 * A node as callers see it.
 * - `pending`: waiting for upstreams, or queued and not yet claimed (also
 *   between retry attempts).
 * - `running`: a worker holds its job.
 * - `done`, `failed`: its job finished (failed covers dead: retries
 *   exhausted).
 * - `skipped`: never ran, because its upstreams failed (see
 *   DependencyMode).
 */
export type DagNodeStatus = 'pending' | 'running' | 'done' | 'failed' | 'skipped';

export type DagRunState = 'running' | 'done' | 'failed';

/** Refers to a task added with dag.task(); usable in `dependsOn`. */
export interface DagTaskRef {
  readonly dag: string;
  readonly name: string;
}

export type DependencyRef = string | DagTaskRef;

export interface DagTaskOptions {
  /**
   * Task name, unique in the DAG. Default: the function's name, which
   * must then be non-empty and unique.
   */
  name?: string;
  /** Arguments before the DagContext. Default []. */
  args?: unknown[];
  /** Upstream task(s) by name or by the ref dag.task() returned. */
  dependsOn?: DependencyRef | readonly DependencyRef[];
  /** Default 'all'. */
  dependencyMode?: DependencyMode;
  /** Queue the task's job goes to. Default: the queue's default queue. */
  queue?: string;
  /** 0..100, higher first. Default: the queue's default priority. */
  priority?: number;
  /** Attempts before the node counts as failed. Default: queue default. */
  maxAttempts?: number;
  /** Per-attempt time limit in ms, null for none. Default: queue default. */
  timeoutMs?: number | null;
}

export const DAG_TASK_OPTION_NAMES: readonly (keyof DagTaskOptions)[] = [
  'name',
  'args',
  'dependsOn',
  'dependencyMode',
  'queue',
  'priority',
  'maxAttempts',
  'timeoutMs',
];

/** The stored error of a failed node. */
export interface DagNodeError {
  name: string;
  message: string;
  stack: string | null;
}

export type DagNodeOutcome =
  | { status: 'done'; jobId: string; attempts: number; result: unknown }
  | { status: 'failed'; jobId: string; attempts: number; error: DagNodeError }
  | {
      status: 'skipped';
      /** The upstream whose failure or skip decided this node. */
      because: string;
    }
  | { status: 'pending' | 'running'; jobId: string | null };

export interface DagStatusCounts {
  pending: number;
  running: number;
  done: number;
  failed: number;
  skipped: number;
}

/** run.status(): counts per node status plus the run's state. */
export interface DagRunStatus extends DagStatusCounts {
  runId: string;
  name: string;
  state: DagRunState;
  total: number;
}

/** run.wait(): the final status of every node. */
export interface DagRunResult {
  runId: string;
  name: string;
  state: Exclude<DagRunState, 'running'>;
  counts: DagStatusCounts;
  /** Every node by name, in declaration order. */
  nodes: Record<string, DagNodeOutcome>;
  /** The failed nodes and why, in declaration order (empty when done). */
  failures: { node: string; error: DagNodeError }[];
}

/**
 * What a DAG task receives as its LAST argument, after `args`:
 * `fn(...args, ctx)`. Upstream results are read from the store when the
 * task starts, so `ctx.upstream()` is synchronous.
 */
export interface DagContext {
  readonly runId: string;
  readonly dag: string;
  readonly node: string;
  /** Direct upstreams, in the order their tasks were added. */
  readonly upstreamNames: readonly string[];
  /**
   * The result of a direct upstream that finished `done`. Throws
   * UpstreamResultError for a name that is not a direct upstream, or one
   * that failed, was skipped, or (in 'any' mode) had not finished when
   * this task started.
   */
  upstream<T = unknown>(name: string): T;
  /** Status of each direct upstream when this task started. */
  upstreamStatus(name: string): DagNodeStatus;
  /** Results of every direct upstream that finished `done`, by name. */
  upstreamResults(): Record<string, unknown>;
}
