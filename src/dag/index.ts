// DAG workflows: tasks wired by dependencies, stored as one run and run by
// ordinary workers. Entry points are q.dag(name) and q.dagRun(id).

export { Dag, buildAndSubmit } from './builder.js';
export { DagRun, type DagWaitOptions } from './run.js';
export { DAG_CONTEXT_SLOT, isDagContextSlot, withDagContext } from './context.js';
export { renderMermaid, type MermaidOptions } from './mermaid.js';
export { validateGraph, type GraphNode } from './graph.js';
export * from './errors.js';
export type * from './types.js';
export { DEPENDENCY_MODES } from './types.js';
export type * from './store.js';
