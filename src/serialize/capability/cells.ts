// Serializes one function with every backend, the producer half of the
// capability matrix. Used by the producer process (module corpus) and by
// `node -e` processes (functions from a script with no file).

import { writeFileSync } from 'node:fs';
import { createSerializer, inspectPayload } from '../index.js';
import { SerializationError, NotSerializableError } from '../errors.js';
import { registerTask, unregisterTask } from '../task-registry.js';
import { run, type InvokeMode, type RunResult } from './invoke.js';

export const MATRIX_BACKENDS = ['v8', 'json', 'source', 'auto'] as const;
export type MatrixBackend = (typeof MATRIX_BACKENDS)[number];

export type Expect = 'works' | { refused: string; path?: string; reason?: string };

export interface ProducedCell {
  payload?: string;
  bytes?: number;
  format?: string;
  fallbackReason?: string;
  refused?: { error: string; reason?: string; path?: string; message: string };
}

export interface ProducedShape {
  id: string;
  title: string;
  origin: 'module' | 'eval';
  invoke?: InvokeMode;
  expect: Record<MatrixBackend, Expect>;
  expected: RunResult;
  cells: Record<MatrixBackend, ProducedCell>;
}

export interface ShapeInput {
  id: string;
  title: string;
  fn: Function;
  args: unknown[];
  invoke?: InvokeMode;
  expect: Record<MatrixBackend, Expect>;
}

/**
 * Serializes with every backend first (captures are a snapshot), then runs
 * the original to get the expected result.
 */
export async function produceShape(
  shape: ShapeInput,
  origin: 'module' | 'eval',
): Promise<ProducedShape> {
  const cells = {} as Record<MatrixBackend, ProducedCell>;
  for (const backend of MATRIX_BACKENDS) {
    cells[backend] = serializeCell(backend, shape, origin === 'module');
  }
  const expected = await run(shape.fn, shape.args, shape.invoke);
  return {
    id: shape.id,
    title: shape.title,
    origin,
    invoke: shape.invoke,
    expect: shape.expect,
    expected,
    cells,
  };
}

function serializeCell(
  backend: MatrixBackend,
  shape: ShapeInput,
  registerForJson: boolean,
): ProducedCell {
  // Only the json cell sees the registration: a registered function would
  // make v8 and auto write the task name instead of finding the module.
  const register = backend === 'json' && registerForJson;
  if (register) registerTask(shape.id, shape.fn as never);
  try {
    const bytes = createSerializer(backend).serialize({
      fn: shape.fn as (...args: any[]) => unknown,
      args: shape.args,
    });
    const info = inspectPayload(bytes);
    return {
      payload: Buffer.from(bytes).toString('base64'),
      bytes: bytes.length,
      format: info.format,
      fallbackReason: info.meta.fallbackReason,
    };
  } catch (err) {
    if (!(err instanceof SerializationError)) {
      const message = err instanceof Error ? err.stack ?? err.message : String(err);
      return { refused: { error: 'UntypedError', message } };
    }
    return {
      refused: {
        error: err.name,
        message: err.message,
        reason: err instanceof NotSerializableError ? err.reason : undefined,
        path: err instanceof NotSerializableError ? err.path : undefined,
      },
    };
  } finally {
    if (register) unregisterTask(shape.id);
  }
}

/** Entry point for `node -e` shapes: serialize `fn`, write JSON to `out`. */
export async function produceEvalShape(
  shape: Omit<ShapeInput, 'fn'>,
  fn: Function,
  out: string,
): Promise<void> {
  const produced = await produceShape({ ...shape, fn }, 'eval');
  writeFileSync(out, JSON.stringify(produced));
}
