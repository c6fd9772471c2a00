// capability.md: which function shapes each backend carries (works),
// refuses with a typed error, or gets wrong, from real round trips.

import type { Results, SuiteResult } from '../bench/results.js';
import type { CapabilityCell, CapabilityData } from '../bench/suite-data.js';
import { table } from './format.js';

const MARK: Record<CapabilityCell['outcome'], string> = {
  works: '✅ works',
  refused: '⛔ refused',
  wrong: '❌ wrong',
  unavailable: '— n/a',
};

function cellText(cell: CapabilityCell | undefined): string {
  if (!cell) return '—';
  const mark = MARK[cell.outcome];
  if (cell.outcome === 'works' && cell.format && cell.backend === 'auto') {
    return `${mark} (${cell.format})`;
  }
  if (cell.outcome === 'refused' && cell.error) return `${mark} (${cell.error})`;
  return mark;
}

export function renderCapabilityBody(
  suite: SuiteResult,
  _results: Results,
): string {
  const data = suite.data as CapabilityData;
  const find = (shape: string, backend: string) =>
    data.cells.find((c) => c.shape === shape && c.backend === backend);
  const counts = data.backends.map((b) => {
    const cells = data.cells.filter((c) => c.backend === b.id);
    const n = (o: CapabilityCell['outcome']) =>
      cells.filter((c) => c.outcome === o).length;
    return [
      `${b.label}${b.kind === 'peer' ? ' (peer)' : ''}`,
      n('works'),
      n('refused'),
      n('wrong'),
      cells.length,
    ];
  });
  const explained = data.cells.filter(
    (c) => c.outcome !== 'works' && (c.reason || c.path),
  );
  return [
    data.method,
    '',
    '**works**: the payload loaded in a fresh process and returned the ' +
      'same result as the original. **refused**: serializing threw a typed ' +
      'error saying why. **wrong**: it serialized, but loading or running ' +
      'it failed or gave another result — the outcome a queue must never ' +
      'hide.',
    '',
    table(
      ['shape', ...data.backends.map((b) => b.label)],
      data.shapes.map((s) => [
        s.label,
        ...data.backends.map((b) => cellText(find(s.id, b.id))),
      ]),
    ),
    '',
    '## Totals',
    '',
    table(['backend', 'works', 'refused', 'wrong', 'cells'], counts),
    ...(data.notes.length ? ['', ...data.notes.map((n) => `- ${n}`)] : []),
    '',
    '## Why each cell that does not work',
    '',
    explained.length
      ? table(
          ['shape', 'backend', 'outcome', 'error', 'where', 'reason'],
          explained.map((c) => [
            c.shape,
            c.backend,
            c.outcome,
            c.error ?? '',
            c.path ?? '',
            (c.reason ?? '').slice(0, 200),
          ]),
        )
      : 'Every cell works.',
  ].join('\n');
}
