// What a store implements to hold DAG runs: plain rows, no serializer
// knowledge, like the rest of the Store contract. A store exposes it as
// `store.dag`; a store without it cannot run DAGs (DagUnsupportedStoreError).
//
// Beyond these methods, a store with DAG support has one obligation inside
// its own job methods: every change of a job to `done`, `failed` or `dead`
// (ack, fail, recoverExpired) settles the DAG node that owns that job IN THE
// SAME TRANSACTION, following settleNode() in src/dag/settle.ts. That is
// what makes readiness exact: the ack that finishes the last upstream is
// the transaction that enqueues the downstream, with no scan over nodes
// and no window in which a crash loses the step.

import type { ErrorRow, JobStatus, NewJobRow } from '../store/types.js';
import type { DagRunState, DependencyMode } from './types.js';

/**
 * A node as stored.
 * - `blocked`: waiting for upstreams; its job is not in the jobs table.
 * - `queued`: its job is in the jobs table (pending, claimed or retrying).
 * - `done` / `failed`: its job finished (failed covers dead).
 * - `skipped`: decided by upstream failures; never enqueued.
 */
export type DagNodeState = 'blocked' | 'queued' | 'done' | 'failed' | 'skipped';

export interface NewDagNode {
  name: string;
  mode: DependencyMode;
  /** Positions (in NewDagRun.nodes) of direct upstreams, no repeats. */
  upstream: number[];
  /**
   * The job to insert when the node becomes ready. The store sets its
   * runAt and createdAt to the time it is enqueued.
   */
  job: NewJobRow;
}

export interface NewDagRun {
  /** Caller-assigned, unique (a UUID). */
  id: string;
  name: string;
  createdAt: number;
  /** Validated by the caller: unique names, acyclic. */
  nodes: NewDagNode[];
}

export interface DagRunRow {
  id: string;
  name: string;
  state: DagRunState;
  nodeCount: number;
  /** Nodes not yet done, failed or skipped. */
  unfinished: number;
  failedCount: number;
  createdAt: number;
  finishedAt: number | null;
}

/** A node with what the jobs table says about its job. */
export interface DagNodeRow {
  position: number;
  name: string;
  mode: DependencyMode;
  state: DagNodeState;
  /** The upstream whose failure or skip decided a skipped node. */
  skippedBy: string | null;
  jobId: string | null;
  /** The job's current status (null until enqueued or once purged). */
  jobStatus: JobStatus | null;
  attempts: number;
  /** The job's encoded result, for done nodes. */
  result: Uint8Array | null;
  lastError: ErrorRow | null;
}

/** One upstream of a job's node, as the DagContext needs it. */
export interface DagUpstreamRow {
  name: string;
  state: DagNodeState;
  jobStatus: JobStatus | null;
  result: Uint8Array | null;
}

/** Which node a job runs, for building its DagContext. */
export interface DagJobRow {
  runId: string;
  dag: string;
  node: string;
  /** Direct upstreams in declaration order. */
  upstream: DagUpstreamRow[];
}

export interface DagStore {
  /**
   * Insert the run, its nodes and edges, and enqueue the jobs of the nodes
   * with no upstream, all in one transaction. Returns their job ids by
   * node position.
   */
  createRun(run: NewDagRun): Promise<Map<number, string>>;
  getRun(runId: string): Promise<DagRunRow | null>;
  /** Nodes in position (declaration) order. */
  listNodes(runId: string): Promise<DagNodeRow[]>;
  /** [upstream position, downstream position] pairs. */
  listEdges(runId: string): Promise<[number, number][]>;
  /** Null when the job belongs to no DAG node. */
  jobNode(jobId: string): Promise<DagJobRow | null>;
  /**
   * In one transaction: every `failed` node of the run goes back to
   * `queued` with its job requeued (pending, attempts 0, as the store's
   * requeue does); every `skipped` node goes back to `blocked` with its
   * counters recounted from its upstreams (with no failed node left, none
   * stays skipped); the run is `running` again. Returns the requeued job
   * ids (none when nothing had failed).
   */
  retryFailed(runId: string, now: number): Promise<string[]>;
}

/** Stores that can run DAGs carry their DagStore here. */
export interface DagCapableStore {
  readonly dag?: DagStore;
}
