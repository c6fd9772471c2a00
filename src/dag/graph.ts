// Pure checks on a DAG's shape, run before anything is stored: unique
// names, known dependencies, no cycles. Iterative throughout, so a chain of
// 100,000 tasks cannot overflow the call stack.

import {
  DagCycleError,
  DuplicateNodeError,
  UnknownDependencyError,
} from './errors.js';

export interface GraphNode {
  readonly name: string;
  /** Names of the tasks this one waits for (its upstreams). */
  readonly dependsOn: readonly string[];
}

/**
 * Validate a DAG and return its node names in a topological order (every
 * upstream before its downstreams; ties keep declaration order).
 * Throws DuplicateNodeError, UnknownDependencyError or DagCycleError for
 * the first problem found in declaration order.
 */
export function validateGraph(
  dag: string,
  nodes: readonly GraphNode[],
): string[] {
  const index = indexNodes(dag, nodes);
  checkDependencies(dag, nodes, index);
  const order = topologicalOrder(nodes, index);
  if (order.length < nodes.length) {
    const placed = new Set(order);
    throw new DagCycleError(dag, findCycle(nodes, index, placed));
  }
  return order;
}

function indexNodes(
  dag: string,
  nodes: readonly GraphNode[],
): Map<string, number> {
  const index = new Map<string, number>();
  nodes.forEach((node, i) => {
    if (index.has(node.name)) throw new DuplicateNodeError(dag, node.name);
    index.set(node.name, i);
  });
  return index;
}

function checkDependencies(
  dag: string,
  nodes: readonly GraphNode[],
  index: Map<string, number>,
): void {
  for (const node of nodes) {
    for (const dep of node.dependsOn) {
      if (!index.has(dep)) {
        const known = nodes.map((n) => n.name);
        throw new UnknownDependencyError(dag, node.name, dep, known);
      }
    }
  }
}

/** Kahn's algorithm; nodes on or behind a cycle are left out. */
function topologicalOrder(
  nodes: readonly GraphNode[],
  index: Map<string, number>,
): string[] {
  const waiting = nodes.map((n) => new Set(n.dependsOn).size);
  const downstream = downstreamLists(nodes, index);
  const ready: number[] = [];
  waiting.forEach((count, i) => {
    if (count === 0) ready.push(i);
  });
  const order: string[] = [];
  // A plain queue keeps declaration order among nodes ready together.
  for (let head = 0; head < ready.length; head++) {
    const i = ready[head]!;
    order.push(nodes[i]!.name);
    for (const d of downstream[i]!) {
      waiting[d]! -= 1;
      if (waiting[d] === 0) ready.push(d);
    }
  }
  return order;
}

/** For each node (by position), the positions of the nodes that wait on it. */
export function downstreamLists(
  nodes: readonly GraphNode[],
  index: Map<string, number>,
): number[][] {
  const downstream: number[][] = nodes.map(() => []);
  nodes.forEach((node, i) => {
    for (const dep of new Set(node.dependsOn)) {
      downstream[index.get(dep)!]!.push(i);
    }
  });
  return downstream;
}

/**
 * Every node Kahn's algorithm could not place waits on another unplaced
 * node, so walking upstream from one must revisit a node: that loop is a
 * cycle. Returned in data-flow order (upstream first), starting at the
 * member declared first and ending where it began: [a, b, c, a].
 */
function findCycle(
  nodes: readonly GraphNode[],
  index: Map<string, number>,
  placed: Set<string>,
): string[] {
  const start = nodes.findIndex((n) => !placed.has(n.name));
  const seenAt = new Map<number, number>();
  const walk: number[] = [];
  let current = start;
  while (!seenAt.has(current)) {
    seenAt.set(current, walk.length);
    walk.push(current);
    const next = nodes[current]!.dependsOn.find((d) => !placed.has(d))!;
    current = index.get(next)!;
  }
  // walk follows "depends on" links; reverse it for data-flow order.
  const loop = walk.slice(seenAt.get(current)).reverse();
  let first = 0;
  loop.forEach((pos, i) => {
    if (pos < loop[first]!) first = i;
  });
  const rotated = [...loop.slice(first), ...loop.slice(0, first)];
  const names = rotated.map((i) => nodes[i]!.name);
  return [...names, names[0]!];
}
