// Reads the serializers' capability matrix (src/serialize/capability.ts)
// into the benchmark's CapabilityData shape.

import type { CapabilityCell, CapabilityData } from './suite-data.js';

export class CapabilityMatrixUnavailableError extends Error {
  constructor(cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      'the capability matrix could not be produced: src/serialize/' +
        `capability.ts runCapabilityMatrix() failed (${why}). The ` +
        'capability suite reports real round trips only, so it has ' +
        'nothing to show without it.',
    );
    this.name = 'CapabilityMatrixUnavailableError';
  }
}

type Matrix = Awaited<
  ReturnType<typeof import('../serialize/capability.js').runCapabilityMatrix>
>;

function toCell(cell: Matrix['cells'][number]): CapabilityCell {
  const out: CapabilityCell = {
    shape: cell.shape,
    backend: cell.backend,
    outcome: cell.outcome,
  };
  if (cell.error) out.error = cell.error;
  const reason = cell.reason ?? cell.message;
  if (reason) out.reason = reason;
  if (cell.path) out.path = cell.path;
  if (cell.bytes !== undefined) out.bytes = cell.bytes;
  if (cell.format) out.format = cell.format;
  if (cell.fallbackReason) out.fallbackReason = cell.fallbackReason;
  return out;
}

/** Our four backends over the corpus, each cell run in a fresh process. */
export async function loadCapabilityMatrix(): Promise<CapabilityData> {
  let matrix: Matrix;
  try {
    const { runCapabilityMatrix } = await import('../serialize/capability.js');
    matrix = await runCapabilityMatrix();
  } catch (error) {
    throw new CapabilityMatrixUnavailableError(error);
  }
  const unexpected = matrix.cells.filter((c) => !c.asExpected);
  const notes = [
    `${matrix.shapes.length} corpus shapes (test/fixtures/corpus), ` +
      `${matrix.shapes.filter((s) => s.origin === 'eval').length} of them ` +
      'defined in `node -e` scripts with no file.',
  ];
  if (unexpected.length) {
    notes.push(
      `${unexpected.length} cell(s) differ from what the corpus expects: ` +
        unexpected.map((c) => `${c.shape}/${c.backend}`).join(', '),
    );
  }
  return {
    shapes: matrix.shapes.map((s) => ({ id: s.id, label: s.title })),
    backends: matrix.backends.map((b) => ({ id: b, label: b, kind: 'ours' })),
    cells: matrix.cells.map(toCell),
    method: matrix.method,
    notes,
  };
}
