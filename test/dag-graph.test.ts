import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { validateGraph, type GraphNode } from '../src/dag/graph.js';
import {
  DagCycleError,
  DuplicateNodeError,
  UnknownDependencyError,
} from '../src/dag/errors.js';
import { renderMermaid } from '../src/dag/mermaid.js';

const n = (name: string, ...dependsOn: string[]): GraphNode => ({
  name,
  dependsOn,
});

function cycleOf(nodes: GraphNode[]): string {
  try {
    validateGraph('etl', nodes);
  } catch (err) {
    expect(err).toBeInstanceOf(DagCycleError);
    return (err as DagCycleError).cycle.join(' -> ');
  }
  throw new Error('expected a cycle');
}

describe('validateGraph', () => {
  it('orders a chain, a diamond and independent roots upstream first', () => {
    expect(validateGraph('d', [n('c', 'b'), n('b', 'a'), n('a')])).toEqual([
      'a',
      'b',
      'c',
    ]);
    const diamond = [n('a'), n('b', 'a'), n('c', 'a'), n('d', 'b', 'c')];
    expect(validateGraph('d', diamond)).toEqual(['a', 'b', 'c', 'd']);
    expect(validateGraph('d', [n('x'), n('y')])).toEqual(['x', 'y']);
  });

  it('names a three-node cycle in data-flow order from the first declared', () => {
    // a waits on c, b on a, c on b: data flows a -> b -> c -> a.
    expect(cycleOf([n('a', 'c'), n('b', 'a'), n('c', 'b')])).toBe(
      'a -> b -> c -> a',
    );
    // Same loop declared in another order starts at its first member.
    expect(cycleOf([n('c', 'b'), n('a', 'c'), n('b', 'a')])).toBe(
      'c -> a -> b -> c',
    );
  });

  it('names a self-dependency and a cycle behind an acyclic prefix', () => {
    expect(cycleOf([n('root'), n('a', 'a')])).toBe('a -> a');
    const nodes = [
      n('root'),
      n('tail', 'x'),
      n('x', 'root', 'z'),
      n('y', 'x'),
      n('z', 'y'),
    ];
    expect(cycleOf(nodes)).toBe('x -> y -> z -> x');
  });

  it('gives the cycle in the error message with the fix', () => {
    expect(() =>
      validateGraph('etl', [n('a', 'c'), n('b', 'a'), n('c', 'b')]),
    ).toThrow(
      "DAG 'etl' has a dependency cycle: a -> b -> c -> a. A DAG must be " +
        'acyclic; remove one of these dependsOn links.',
    );
  });

  it('rejects duplicate names and unknown dependencies, naming them', () => {
    const dup = () => validateGraph('etl', [n('a'), n('b'), n('a')]);
    expect(dup).toThrow(DuplicateNodeError);
    expect(dup).toThrow(/already has a task named 'a'/);
    try {
      validateGraph('etl', [n('extract'), n('load', 'transform')]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UnknownDependencyError);
      const e = err as UnknownDependencyError;
      expect([e.node, e.dependency]).toEqual(['load', 'transform']);
      expect(e.message).toContain("Known tasks: 'extract', 'load'");
    }
  });

  it('handles a 20,000-node chain without deep recursion', () => {
    const chain = Array.from({ length: 20_000 }, (_, i) =>
      i === 0 ? n('t0') : n(`t${i}`, `t${i - 1}`),
    );
    const order = validateGraph('long', chain.slice().reverse());
    expect(order[0]).toBe('t0');
    expect(order.at(-1)).toBe('t19999');
    chain[0] = n('t0', 't19999');
    expect(() => validateGraph('long', chain)).toThrow(DagCycleError);
  });

  it('returns a valid topological order for random acyclic graphs', () => {
    // Edges only point from lower to higher index, so the graph is acyclic;
    // declaration order is shuffled by the permutation.
    const graphs = fc
      .integer({ min: 1, max: 30 })
      .chain((size) =>
        fc.tuple(
          fc.array(fc.tuple(fc.nat(size - 1), fc.nat(size - 1)), {
            maxLength: 60,
          }),
          fc.shuffledSubarray([...Array(size).keys()], {
            minLength: size,
            maxLength: size,
          }),
        ),
      );
    fc.assert(
      fc.property(graphs, ([pairs, perm]) => {
        const deps = new Map<number, Set<number>>();
        for (const [x, y] of pairs) {
          if (x === y) continue;
          const [lo, hi] = x < y ? [x, y] : [y, x];
          if (!deps.has(hi)) deps.set(hi, new Set());
          deps.get(hi)!.add(lo);
        }
        const nodes = perm.map((i) =>
          n(`v${i}`, ...[...(deps.get(i) ?? [])].map((d) => `v${d}`)),
        );
        const order = validateGraph('g', nodes);
        expect(order).toHaveLength(nodes.length);
        const at = new Map(order.map((name, i) => [name, i]));
        for (const node of nodes) {
          for (const d of node.dependsOn) {
            expect(at.get(d)!).toBeLessThan(at.get(node.name)!);
          }
        }
      }),
    );
  });

  it('finds a cycle that really is one in random graphs with a back edge', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 25 }), fc.nat(), (size, seed) => {
        // A chain v0 <- v1 <- ... plus one back edge makes exactly one loop.
        const from = seed % size;
        const to = (from + 1 + (seed % (size - 1))) % size;
        const [lo, hi] = from < to ? [from, to] : [to, from];
        const nodes = Array.from({ length: size }, (_, i) =>
          i === 0 ? n('v0') : n(`v${i}`, `v${i - 1}`),
        );
        nodes[lo] = n(`v${lo}`, ...nodes[lo]!.dependsOn, `v${hi}`);
        try {
          validateGraph('g', nodes);
          expect.unreachable();
        } catch (err) {
          const cycle = (err as DagCycleError).cycle;
          expect(cycle[0]).toBe(cycle.at(-1));
          const byName = new Map(nodes.map((x) => [x.name, x]));
          // Each step a -> b means b depends on a.
          for (let i = 0; i + 1 < cycle.length; i++) {
            expect(byName.get(cycle[i + 1]!)!.dependsOn).toContain(cycle[i]);
          }
          expect(cycle).toHaveLength(hi - lo + 2);
        }
      }),
    );
  });
});

describe('renderMermaid', () => {
  const nodes = [
    { name: 'extract', dependsOn: [], dependencyMode: 'all' as const },
    { name: 'audit', dependsOn: [], dependencyMode: 'all' as const },
    {
      name: 'transform "v2"',
      dependsOn: ['extract'],
      dependencyMode: 'all' as const,
    },
    {
      name: 'report',
      dependsOn: ['transform "v2"', 'audit'],
      dependencyMode: 'any' as const,
    },
  ];

  it('draws nodes, solid edges for all and dotted edges for any', () => {
    expect(renderMermaid(nodes)).toBe(
      [
        'graph TD',
        '  n0["extract"]',
        '  n1["audit"]',
        '  n2["transform #quot;v2#quot;"]',
        '  n3["report"]',
        '  n0 --> n2',
        '  n2 -.-> n3',
        '  n1 -.-> n3',
      ].join('\n'),
    );
  });

  it('colours nodes by status when statuses are given', () => {
    const text = renderMermaid(nodes, {
      direction: 'LR',
      statuses: { extract: 'done', audit: 'failed', report: 'skipped' },
    });
    expect(text.startsWith('graph LR\n')).toBe(true);
    expect(text).toContain('  class n0 done');
    expect(text).toContain('  class n1 failed');
    expect(text).toContain('  class n3 skipped');
    expect(text).not.toContain('class n2');
    expect(text).toMatch(/classDef failed fill:#fee2e2/);
    expect(text).not.toContain('classDef running');
  });
});
