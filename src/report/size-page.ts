// size.md: bytes per backend for each function shape, for whole job calls
// over real payloads, for the data formats, and over the capability corpus.

import type { Results, SuiteResult } from '../bench/results.js';
import type {
  CapabilityData,
  PythonReferenceData,
  SizeData,
} from '../bench/suite-data.js';
import { barChart, formatBytes, formatPercent, formatRatio, table } from './format.js';
import { okSuite } from './lookup.js';
import { MEMO_FIGURES } from './memo.js';

function matrix<R extends { status: string; bytes?: number; error?: string }>(
  rows: R[],
  rowKeys: Array<{ id: string; label: string }>,
  columnKeys: Array<{ id: string; label: string }>,
  pick: (row: R) => [string, string],
): string {
  const find = (r: string, c: string) =>
    rows.find((row) => {
      const [rk, ck] = pick(row);
      return rk === r && ck === c;
    });
  return table(
    ['', ...columnKeys.map((c) => c.label)],
    rowKeys.map((r) => [
      r.label,
      ...columnKeys.map((c) => {
        const row = find(r.id, c.id);
        if (!row) return '—';
        if (row.status === 'works') return formatBytes(row.bytes!);
        return `${row.status}${row.error ? ` (${row.error})` : ''}`;
      }),
    ]),
  );
}

function memoSection(data: SizeData, results: Results): string[] {
  const bytes = (backend: string, shape: string) =>
    data.functionRows.find(
      (r) => r.backend === backend && r.shape === shape && r.status === 'works',
    )?.bytes;
  const v8Module = bytes('v8', 'moduleFunction');
  const sourceLambda = bytes('source', 'lambda');
  const python = okSuite(results, 'python-reference')?.data as
    | PythonReferenceData
    | undefined;
  const py = (lib: string, shape: string) =>
    python?.rows.find((r) => r.library === lib && r.shape === shape)?.bytes;
  const show = (n: number | undefined) => (n === undefined ? '—' : `${n} B`);
  const factor = (a?: number, b?: number) =>
    a !== undefined && b !== undefined ? formatRatio(b / a) : '—';
  return [
    '## Beside pickle and cloudpickle',
    '',
    table(
      ['', 'by reference', 'by value (lambda)', 'by value / by reference'],
      [
        [
          'design memo (Python)',
          `${MEMO_FIGURES.pickleBytes} B (pickle)`,
          `${MEMO_FIGURES.cloudpickleBytes} B (cloudpickle)`,
          formatRatio(MEMO_FIGURES.sizeFactor),
        ],
        [
          'Python, measured in this run',
          show(py('pickle', 'moduleFunction')),
          show(py('cloudpickle', 'lambda')),
          factor(py('pickle', 'moduleFunction'), py('cloudpickle', 'lambda')),
        ],
        [
          'duckqueue (v8 / source)',
          show(v8Module),
          show(sourceLambda),
          factor(v8Module, sourceLambda),
        ],
      ],
    ),
  ];
}

/** Corpus sizes, measured by the capability suite of the same run. */
function corpusSection(results: Results): string[] {
  const capability = okSuite(results, 'capability');
  const data = capability?.data as CapabilityData | undefined;
  if (!data) {
    return [
      'Not shown: the capability suite did not run successfully in this ' +
        'run; it serializes the corpus and records the bytes.',
    ];
  }
  return [
    'Bytes of each corpus shape’s payload (function and its arguments), ' +
      'from the capability suite of this run; only cells that round-trip ' +
      'correctly are sized. See [capability.md](capability.md).',
    '',
    matrix(
      data.cells.map((c) => ({
        ...c,
        status: c.outcome,
      })),
      data.shapes,
      data.backends,
      (c) => [c.shape, c.backend],
    ),
  ];
}

export function renderSizeBody(suite: SuiteResult, results: Results): string {
  const data = suite.data as SizeData;
  const payloadKeys = data.payloads.map((p) => ({ id: p.id, label: p.id }));
  const parts: string[] = [
    'Bytes are exact and deterministic (the gate requires them to match). ' +
      'Every size counts the whole payload a queue would store, envelope ' +
      'included; a size is only shown when the payload also loaded back ' +
      'and returned the right result.',
    '',
    ...memoSection(data, results),
    '',
    '## Function alone',
    '',
    'The function with no arguments, as `pickle.dumps(f)` would store it.',
    '',
    matrix(data.functionRows, data.shapes, data.backends, (r) => [
      r.shape,
      r.backend,
    ]),
  ];
  for (const shape of data.shapes) {
    const rows = data.functionRows.filter(
      (r) => r.shape === shape.id && r.status === 'works' && r.backend !== 'pulumi',
    );
    if (shape.id === 'lambda' || shape.id === 'closure3') {
      parts.push(
        '',
        barChart(
          `bytes, ${shape.label}`,
          'bytes',
          rows.map((r) => ({ label: r.backend, value: r.bytes! })),
        ),
      );
    }
  }
  parts.push(
    '',
    '## Whole job calls over real payloads',
    '',
    'A module function (`summarizeEvent`) called with one real payload.',
    '',
    table(
      ['payload', 'source', 'JSON size'],
      data.payloads.map((p) => [p.id, p.source, formatBytes(p.jsonBytes)]),
    ),
    '',
    matrix(data.callRows, payloadKeys, data.backends, (r) => [
      r.payload,
      r.backend,
    ]),
    '',
    '## Data formats',
    '',
    'Arguments only. Percentages are of compact JSON.',
    '',
    table(
      ['payload', ...data.codecs.map((c) => c.label)],
      data.payloads.map((p) => [
        p.id,
        ...data.codecs.map((c) => {
          const row = data.dataRows.find(
            (r) => r.payload === p.id && r.codec === c.id,
          );
          if (!row || row.status !== 'works') return row?.status ?? '—';
          return `${formatBytes(row.bytes!)} (${formatPercent(row.bytes! / p.jsonBytes)})`;
        }),
      ]),
    ),
  );
  const large = data.payloads[data.payloads.length - 1];
  if (large) {
    parts.push(
      '',
      barChart(
        `bytes, ${large.id}`,
        'KiB',
        data.dataRows
          .filter((r) => r.payload === large.id && r.status === 'works')
          .map((r) => ({ label: r.codec, value: r.bytes! / 1024 })),
      ),
    );
  }
  parts.push('', '## Capability corpus', '', ...corpusSection(results));
  return parts.join('\n');
}
