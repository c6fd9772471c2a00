// Mermaid flowchart text for a DAG, optionally coloured by node status, so
// a run can be pasted into a GitHub issue or markdown page and rendered.

import type { DependencyMode, DagNodeStatus } from './types.js';

export interface MermaidNode {
  readonly name: string;
  readonly dependsOn: readonly string[];
  readonly dependencyMode: DependencyMode;
}

export interface MermaidOptions {
  /** Flow direction. Default 'TD' (top down); 'LR' reads left to right. */
  direction?: 'TD' | 'LR';
  /** Status per node name; nodes with a status get a coloured class. */
  statuses?: Readonly<Record<string, DagNodeStatus>>;
}

const STATUS_STYLES: Record<DagNodeStatus, string> = {
  pending: 'fill:#f5f5f5,stroke:#999',
  running: 'fill:#dbeafe,stroke:#2563eb',
  done: 'fill:#dcfce7,stroke:#16a34a',
  failed: 'fill:#fee2e2,stroke:#dc2626',
  skipped: 'fill:#fef9c3,stroke:#ca8a04,stroke-dasharray:4',
};

/**
 * Render a flowchart. Node ids are positional (n0, n1, ...) so any task
 * name is safe; names are shown as quoted labels. Edges into an 'any'
 * node are dotted: one finished upstream is enough to start it.
 */
export function renderMermaid(
  nodes: readonly MermaidNode[],
  options: MermaidOptions = {},
): string {
  const ids = new Map(nodes.map((n, i) => [n.name, `n${i}`]));
  const lines = [`graph ${options.direction ?? 'TD'}`];
  nodes.forEach((n, i) => lines.push(`  n${i}["${label(n.name)}"]`));
  for (const n of nodes) {
    const arrow = n.dependencyMode === 'any' ? '-.->' : '-->';
    for (const dep of n.dependsOn) {
      const from = ids.get(dep);
      if (from) lines.push(`  ${from} ${arrow} ${ids.get(n.name)}`);
    }
  }
  const statuses = options.statuses;
  if (statuses) {
    const used = new Set<DagNodeStatus>();
    nodes.forEach((n, i) => {
      const status = statuses[n.name];
      if (!status) return;
      used.add(status);
      lines.push(`  class n${i} ${status}`);
    });
    for (const status of used) {
      lines.push(`  classDef ${status} ${STATUS_STYLES[status]}`);
    }
  }
  return lines.join('\n');
}

/** Mermaid labels are quoted; quotes and angle brackets become entities. */
function label(name: string): string {
  return name
    .replace(/"/g, '#quot;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;');
}
