// The capability matrix: every corpus shape × backend, round-tripped in
// fresh processes by the serializers' own runCapabilityMatrix
// (src/serialize/capability.ts), with the peers (Pulumi, serialize-
// javascript) run over the same corpus as extra columns. Cells and refusal
// reasons are exact metrics: a change is a behaviour change.

import { loadCapabilityMatrix } from '../src/bench/capability-matrix.js';
import { exact, idPart } from '../src/bench/metrics.js';
import type { Metric } from '../src/bench/results.js';
import {
  defineSuite,
  runSuiteIfMain,
  type SuiteOutput,
} from '../src/bench/suite.js';

const suite = defineSuite({
  name: 'capability',
  title: 'Capability matrix',
  async run(ctx): Promise<SuiteOutput> {
    ctx.progress('running the capability matrix in fresh processes');
    const data = await loadCapabilityMatrix((task, done, total) =>
      ctx.progress(task, done, total),
    );
    const metrics: Metric[] = [];
    for (const cell of data.cells) {
      const id = `capability.${idPart(cell.backend)}.${idPart(cell.shape)}`;
      const value =
        cell.outcome === 'refused' || cell.outcome === 'wrong'
          ? `${cell.outcome}:${cell.error ?? 'Error'}`
          : cell.outcome;
      metrics.push(exact(id, value, { tags: [cell.backend] }));
      if (cell.outcome === 'refused' && (cell.path || cell.reason)) {
        metrics.push(
          exact(`${id}.reason`, cell.path ?? cell.reason ?? null, {
            tags: [cell.backend],
          }),
        );
      }
    }
    return { metrics, data };
  },
});

export default suite;
runSuiteIfMain(suite, import.meta.url);
