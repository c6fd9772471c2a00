// The capability matrix: every shape of the corpus (test/fixtures/corpus)
// × every backend, each cell serialized in a producer process and run in a
// fresh consumer process per backend. A cell works (same result as the
// original), is refused with a typed error, or is wrong. The test suite
// asserts the expected cell for every shape; the benchmark report renders
// the matrix.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  MATRIX_BACKENDS,
  type Expect,
  type MatrixBackend,
  type ProducedShape,
} from './capability/cells.js';
import type { ConsumedCell } from './capability/consumer.js';

export { MATRIX_BACKENDS } from './capability/cells.js';
export type { Expect, MatrixBackend } from './capability/cells.js';

export type CapabilityOutcome = 'works' | 'refused' | 'wrong';

export interface CapabilityCell {
  shape: string;
  backend: MatrixBackend;
  outcome: CapabilityOutcome;
  /** Where the outcome was decided. */
  phase: 'serialize' | 'load' | 'call';
  /** Error class for refusals and failures, e.g. 'NotSerializableError'. */
  error?: string;
  reason?: string;
  /** Where the refused value is, e.g. "captured variable 'socket'". */
  path?: string;
  message?: string;
  bytes?: number;
  /** Format written (auto: 'v8' or 'source'). */
  format?: string;
  fallbackReason?: string;
  /** For wrong cells: what the original returned and what came back. */
  expected?: string;
  actual?: string;
  expectation: Expect;
  asExpected: boolean;
}

export interface CapabilityMatrix {
  shapes: { id: string; title: string; origin: 'module' | 'eval' }[];
  backends: MatrixBackend[];
  cells: CapabilityCell[];
  node: string;
  method: string;
}

export interface CapabilityOptions {
  /** Directory holding shapes.ts and eval-shapes.ts. Default: the corpus. */
  corpusDir?: string;
  /** Per child process. Default: 120 000 ms. */
  timeoutMs?: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const ext = path.extname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const script = (name: string) => path.join(here, 'capability', `${name}${ext}`);

const METHOD =
  'Each shape is serialized with every backend in one producer process ' +
  '(node --import tsx; node -e for shapes with no file), then each ' +
  "backend's payloads are loaded and run in a fresh consumer process and " +
  "compared with the original's result (util.inspect of the value).";

export async function runCapabilityMatrix(
  options: CapabilityOptions = {},
): Promise<CapabilityMatrix> {
  const corpusDir =
    options.corpusDir ?? path.join(repoRoot, 'test', 'fixtures', 'corpus');
  const timeout = options.timeoutMs ?? 120_000;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'duckqueue-capability-'));
  try {
    const modulesOut = path.join(dir, 'modules.json');
    await node(['--import', 'tsx', script('producer'), corpusDir, modulesOut], timeout);
    const produced = JSON.parse(await readFile(modulesOut, 'utf8')) as {
      shapes: ProducedShape[];
      evalShapes: EvalShapeDef[];
    };
    const all = [...produced.shapes];
    await inBatches(produced.evalShapes, 2, async (shape, i) => {
      const out = path.join(dir, `eval-${i}.json`);
      await node(['--import', 'tsx', '-e', evalProgram(shape, out)], timeout);
      all.push(JSON.parse(await readFile(out, 'utf8')) as ProducedShape);
    });
    all.sort((a, b) => order(produced, a) - order(produced, b));
    const input = path.join(dir, 'all.json');
    await writeFile(input, JSON.stringify(all));
    const consumed = new Map<MatrixBackend, ConsumedCell[]>();
    await inBatches([...MATRIX_BACKENDS], 2, async (backend) => {
      const out = path.join(dir, `consumed-${backend}.json`);
      await node(
        ['--import', 'tsx', script('consumer'), backend, corpusDir, input, out],
        timeout,
      );
      consumed.set(backend, JSON.parse(await readFile(out, 'utf8')));
    });
    return {
      shapes: all.map((s) => ({ id: s.id, title: s.title, origin: s.origin })),
      backends: [...MATRIX_BACKENDS],
      cells: all.flatMap((shape) =>
        MATRIX_BACKENDS.map((backend) =>
          cellOf(shape, backend, consumed.get(backend) ?? []),
        ),
      ),
      node: process.version,
      method: METHOD,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface EvalShapeDef {
  id: string;
  title: string;
  code: string;
  args: unknown[];
  expect: Record<MatrixBackend, Expect>;
}

function order(
  produced: { shapes: ProducedShape[]; evalShapes: EvalShapeDef[] },
  shape: ProducedShape,
): number {
  const i = produced.shapes.findIndex((s) => s.id === shape.id);
  if (i >= 0) return i;
  return produced.shapes.length + produced.evalShapes.findIndex((s) => s.id === shape.id);
}

/** The `node -e` program: the shape's code, then hand `fn` to the producer. */
function evalProgram(shape: EvalShapeDef, out: string): string {
  const cells = script('cells');
  const { id, title, args, expect } = shape;
  const meta = JSON.stringify({ id, title, args, expect });
  return (
    `${shape.code}\n` +
    `import(${JSON.stringify(cells)})` +
    `.then((m) => m.produceEvalShape(${meta}, fn, ${JSON.stringify(out)}))` +
    '.then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });'
  );
}

function cellOf(
  shape: ProducedShape,
  backend: MatrixBackend,
  consumed: ConsumedCell[],
): CapabilityCell {
  const produced = shape.cells[backend];
  const expectation = shape.expect[backend];
  const base = {
    shape: shape.id,
    backend,
    bytes: produced.bytes,
    format: produced.format,
    fallbackReason: produced.fallbackReason,
    expectation,
  };
  let cell: Omit<CapabilityCell, 'asExpected'>;
  if (produced.refused) {
    const typed = produced.refused.error !== 'UntypedError';
    cell = {
      ...base,
      outcome: typed ? 'refused' : 'wrong',
      phase: 'serialize',
      error: produced.refused.error,
      reason: produced.refused.reason,
      path: produced.refused.path,
      message: produced.refused.message,
    };
  } else {
    const result = consumed.find((c) => c.shape === shape.id);
    cell = result
      ? {
          ...base,
          outcome: result.outcome,
          phase: result.phase ?? 'call',
          error: result.error,
          message: result.message,
          expected:
            result.outcome === 'wrong' ? describeRun(shape.expected) : undefined,
          actual: result.actual,
        }
      : {
          ...base,
          outcome: 'wrong',
          phase: 'load',
          message: 'the consumer process reported no result for this cell',
        };
  }
  return { ...cell, asExpected: matches(cell, expectation) };
}

function describeRun(run: ProducedShape['expected']): string {
  return 'value' in run ? run.value : `threw ${run.threw}`;
}

function matches(cell: Omit<CapabilityCell, 'asExpected'>, expect: Expect): boolean {
  if (expect === 'works') return cell.outcome === 'works';
  return (
    cell.outcome === 'refused' &&
    cell.error === expect.refused &&
    (expect.path === undefined || cell.path === expect.path) &&
    (expect.reason === undefined ||
      `${cell.reason ?? ''} ${cell.message ?? ''}`.includes(expect.reason))
  );
}

function node(args: string[], timeout: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      args,
      { cwd: repoRoot, timeout, maxBuffer: 16 * 1024 * 1024 },
      (err, _stdout, stderr) => {
        if (!err) return resolve();
        const what = args.includes('-e')
          ? 'node -e producer'
          : path.basename(args[2] ?? '');
        reject(
          new Error(
            `capability matrix: ${what} failed ` +
              `(${err.message.split('\n')[0]}):\n${stderr}`,
          ),
        );
      },
    );
  });
}

async function inBatches<T>(
  items: T[],
  size: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) {
    await Promise.all(items.slice(i, i + size).map((item, j) => task(item, i + j)));
  }
}
