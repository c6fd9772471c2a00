// The page for a suite that has no renderer of its own: every metric in a
// table. Timings show median, spread and the same-run ratio.

import type { SuiteResult } from '../bench/results.js';
import { formatRatio, formatTiming, spread, table } from './format.js';

export function renderGenericBody(suite: SuiteResult): string {
  const timings = suite.metrics.filter((m) => m.kind === 'timing');
  const exacts = suite.metrics.filter((m) => m.kind === 'exact');
  const parts: string[] = [];
  if (timings.length) {
    parts.push(
      '## Timings',
      table(
        ['metric', 'median (spread)', 'ratio to', 'ratio (spread)'],
        timings.map((m) => [
          m.label ?? m.id,
          formatTiming(m),
          m.ratio?.to ?? '—',
          m.ratio
            ? `${formatRatio(m.ratio.stats.median)} (${spread(m.ratio.stats)})`
            : '—',
        ]),
      ),
    );
  }
  if (exacts.length) {
    parts.push(
      '## Exact values',
      table(
        ['metric', 'value'],
        exacts.map((m) => [m.id, `${m.value}${m.unit ? ` ${m.unit}` : ''}`]),
      ),
    );
  }
  if (!parts.length) parts.push('This suite recorded no metrics.');
  return parts.join('\n\n');
}
