// What happens to a DAG when one of its jobs finishes. Stores call this
// inside the transaction that moves the job to done, failed or dead, with
// `ops` bound to that transaction. The work done is proportional to the
// finished node's direct downstreams (plus any skip cascade), never to the
// size of the run: a 1,000-way fan-out costs one pass over 1,000 edges, and
// each ack into a 1,000-way fan-in touches one row.
//
// Two drivers share one decision rule: settleNode for stores whose
// transactions are synchronous (better-sqlite3), settleNodeAsync for the
// rest.

import type { DependencyMode } from './types.js';

export type SettledState = 'done' | 'failed' | 'skipped';

/** A queued node whose job just finished. */
export interface SettlingNode {
  runId: string;
  position: number;
  name: string;
}

/** A blocked downstream node after its upstream counters were bumped. */
export interface BumpedNode {
  position: number;
  name: string;
  mode: DependencyMode;
  upstreamTotal: number;
  upstreamDone: number;
  /** Upstreams that failed or were skipped. */
  upstreamFailed: number;
}

export interface SettleOps {
  /** The node that owns the job, only if that node is `queued`. */
  queuedNodeForJob(jobId: string): SettlingNode | null;
  /**
   * Give the node its final state and count it in its run; the run ends
   * (done, or failed when any node failed) when no node is unfinished.
   */
  finishNode(
    node: SettlingNode,
    state: SettledState,
    skippedBy: string | null,
    now: number,
  ): void;
  /**
   * Add one to `upstreamDone` (passed) or `upstreamFailed` (not passed) of
   * every BLOCKED direct downstream of the node, returning those rows.
   */
  bumpDownstream(node: SettlingNode, passed: boolean): BumpedNode[];
  /**
   * Insert the jobs of these nodes (all of one run, all just bumped) into
   * the jobs table and mark the nodes `queued`. Batched so a store can do
   * a fan-out in a few set-based statements.
   */
  enqueueNodes(runId: string, positions: number[], now: number): void;
}

/** The same operations for stores whose drivers are asynchronous. */
export type AsyncSettleOps = {
  [K in keyof SettleOps]: (
    ...args: Parameters<SettleOps[K]>
  ) => Promise<ReturnType<SettleOps[K]>>;
};

/** What a bumped downstream node does next. */
export function nextStep(
  node: BumpedNode,
  passed: boolean,
): 'enqueue' | 'skip' | 'wait' {
  if (passed) {
    // 'any' starts on its first finished upstream; only blocked nodes are
    // bumped, so a bumped 'any' node has not started yet.
    if (node.mode === 'any') return 'enqueue';
    return node.upstreamDone === node.upstreamTotal ? 'enqueue' : 'wait';
  }
  if (node.mode === 'all') return 'skip';
  return node.upstreamFailed === node.upstreamTotal ? 'skip' : 'wait';
}

interface Settled {
  node: SettlingNode;
  state: SettledState;
  skippedBy: string | null;
}

/** Settle the node owning `jobId` (no-op for jobs outside any DAG). */
export function settleNode(
  ops: SettleOps,
  jobId: string,
  outcome: 'done' | 'failed',
  now: number,
): void {
  const node = ops.queuedNodeForJob(jobId);
  if (!node) return;
  const work: Settled[] = [{ node, state: outcome, skippedBy: null }];
  for (let item = work.pop(); item; item = work.pop()) {
    ops.finishNode(item.node, item.state, item.skippedBy, now);
    const passed = item.state === 'done';
    const ready = route(item, ops.bumpDownstream(item.node, passed), work);
    if (ready.length) ops.enqueueNodes(item.node.runId, ready, now);
  }
}

/** settleNode for asynchronous drivers, inside their transaction. */
export async function settleNodeAsync(
  ops: AsyncSettleOps,
  jobId: string,
  outcome: 'done' | 'failed',
  now: number,
): Promise<void> {
  const node = await ops.queuedNodeForJob(jobId);
  if (!node) return;
  const work: Settled[] = [{ node, state: outcome, skippedBy: null }];
  for (let item = work.pop(); item; item = work.pop()) {
    await ops.finishNode(item.node, item.state, item.skippedBy, now);
    const passed = item.state === 'done';
    const bumped = await ops.bumpDownstream(item.node, passed);
    const ready = route(item, bumped, work);
    if (ready.length) await ops.enqueueNodes(item.node.runId, ready, now);
  }
}

/** Positions to enqueue; nodes to skip go onto the work list. */
function route(item: Settled, bumped: BumpedNode[], work: Settled[]) {
  const passed = item.state === 'done';
  const ready: number[] = [];
  for (const down of bumped) {
    const step = nextStep(down, passed);
    if (step === 'enqueue') ready.push(down.position);
    else if (step === 'skip') work.push(skipped(item, down));
  }
  return ready;
}

function skipped(cause: Settled, down: BumpedNode): Settled {
  return {
    node: { runId: cause.node.runId, position: down.position, name: down.name },
    state: 'skipped',
    skippedBy: cause.node.name,
  };
}
