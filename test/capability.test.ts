// The capability matrix, run for real: every corpus shape × backend is
// serialized in a producer process and run in a fresh consumer process.
// Every cell must be what the corpus says; a wrong result fails.

import { beforeAll, describe, expect, it } from 'vitest';
import {
  runCapabilityMatrix,
  type CapabilityCell,
  type CapabilityMatrix,
} from '../src/serialize/capability.js';

let matrix: CapabilityMatrix;

beforeAll(async () => {
  matrix = await runCapabilityMatrix();
}, 240_000);

function cell(shape: string, backend: string): CapabilityCell {
  const found = matrix.cells.find((c) => c.shape === shape && c.backend === backend);
  if (!found) throw new Error(`no cell ${shape} × ${backend}`);
  return found;
}

function show(c: CapabilityCell): string {
  return JSON.stringify({
    shape: c.shape,
    backend: c.backend,
    outcome: c.outcome,
    expectation: c.expectation,
    error: c.error,
    path: c.path,
    message: c.message,
    expected: c.expected,
    actual: c.actual,
  });
}

describe('capability matrix', () => {
  it('covers at least 20 shapes with every backend', () => {
    expect(matrix.shapes.length).toBeGreaterThanOrEqual(20);
    expect(matrix.backends).toEqual(['v8', 'json', 'source', 'auto']);
    expect(matrix.cells).toHaveLength(matrix.shapes.length * 4);
  });

  it('gives every cell the outcome the corpus expects', () => {
    const unexpected = matrix.cells.filter((c) => !c.asExpected).map(show);
    expect(unexpected).toEqual([]);
  });

  it('never returns a wrong result', () => {
    expect(matrix.cells.filter((c) => c.outcome === 'wrong').map(show)).toEqual([]);
  });

  it('refuses a captured socket under source, naming the variable', () => {
    const c = cell('socket', 'source');
    expect(c.outcome).toBe('refused');
    expect(c.error).toBe('NotSerializableError');
    expect(c.path).toBe("captured variable 'socket'");
    expect(c.message).toMatch(/handle/);
  });

  it('refuses a lambda under v8 and runs it under source and auto', () => {
    expect(cell('lambda', 'v8')).toMatchObject({
      outcome: 'refused',
      error: 'NotSerializableError',
      path: 'fn',
    });
    expect(cell('lambda', 'source').outcome).toBe('works');
    const auto = cell('lambda', 'auto');
    expect(auto.outcome).toBe('works');
    expect(auto.format).toBe('source');
    expect(auto.fallbackReason).toMatch(/not exported/);
  });

  it('keeps module functions by reference under auto', () => {
    const auto = cell('module-function', 'auto');
    expect(auto).toMatchObject({ outcome: 'works', format: 'v8' });
    expect(auto.fallbackReason).toBeUndefined();
  });

  it('runs functions defined in node -e only by source', () => {
    expect(cell('repl-closure', 'v8').message).toMatch(/no file/);
    expect(cell('repl-closure', 'source').outcome).toBe('works');
    expect(cell('repl-function', 'auto')).toMatchObject({
      outcome: 'works',
      format: 'source',
    });
  });

  it('carries TypeScript modules by reference and by source', () => {
    for (const backend of ['v8', 'source']) {
      expect(cell('typescript', backend).outcome).toBe('works');
    }
    expect(cell('typescript-closure', 'source').outcome).toBe('works');
  });

  it('reports payload sizes for every written cell', () => {
    for (const c of matrix.cells) {
      if (c.phase !== 'serialize') expect(c.bytes).toBeGreaterThan(0);
    }
  });
});
