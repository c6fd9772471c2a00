// The source serializer and classes that extend other classes. Functions
// are serialized in child processes (`node --import tsx`), where module
// code is real: vitest rewrites modules, and with them closures.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeFunctionText } from '../src/serialize/source/function-text.js';
import { runChild } from './helpers/children.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';

const script = fileURLToPath(
  new URL('./fixtures/serialize/subclass-checks.ts', import.meta.url),
);

let report: any;

beforeAll(async () => {
  report = JSON.parse(await runChild(script, []));
}, 120_000);

afterAll(removeTempDirs);

describe('reading the `extends` clause of class text', () => {
  it('finds the expression and the names only it reads', () => {
    const src = 'class A extends mixin(B) { m() { return B; } }';
    const { superclass, free, eager } = analyzeFunctionText(src);
    expect(superclass).toEqual({
      start: src.indexOf('mixin'),
      end: src.indexOf(' {'),
      identifier: undefined,
      names: ['mixin', 'B'],
      only: ['mixin'],
    });
    expect(free).toEqual(['mixin', 'B']);
    expect(eager).toEqual(['mixin', 'B']);
  });

  it('names a lone variable; nested classes do not count', () => {
    const src = 'class A extends Base { m() { return class extends C {}; } }';
    expect(analyzeFunctionText(src).superclass).toMatchObject({
      identifier: 'Base',
      names: ['Base'],
      only: ['Base'],
    });
    expect(analyzeFunctionText('class A {}').superclass).toBeUndefined();
    expect(analyzeFunctionText('() => 1').superclass).toBeUndefined();
  });
});

describe('a class extending a module-level class nothing else reads', () => {
  it('runs methods of the base and of the subclass', () => {
    expect(report.subclass).toEqual({ value: ['hi', 'HI'] });
  });

  it('works for a class expression', () => {
    expect(report.classExpression).toEqual({ value: 'hi?' });
  });

  it('works for `extends mixin(Base)` and `extends ns.Base`', () => {
    expect(report.mixin).toEqual({ value: '[hi]' });
    expect(report.member).toEqual({ value: 'hi o/' });
  });

  it('works three levels deep', () => {
    expect(report.chain).toEqual({ value: ['hi', 'HI', 'hi...'] });
  });

  it('keeps the superclass the class was defined with', () => {
    // `let Engine` was reassigned after `class Train extends Engine`.
    expect(report.reassigned).toEqual({ value: 'steam' });
  });

  it('keeps `extends null` when null comes from a variable', () => {
    expect(report.nullBase).toEqual({ value: ['bare', true] });
  });

  it('rebuilds a base and subclass that capture each other once', () => {
    expect(report.mutual).toEqual({ value: [true, true, 4] });
  });
});

describe('a captured instance of a subclass', () => {
  it('arrives as an instance of the rebuilt subclass and base', () => {
    expect(report.capturedInstance).toEqual({
      chain: ['Shouter', 'Greeter'],
      instanceOfEach: true,
      superclassesLinked: true,
      inherited: 'hi',
      own: 'HI',
      label: 'kept',
      sameClassAsHere: false,
    });
  });

  it('works three levels deep', () => {
    expect(report.capturedChain).toEqual({ value: ['hi...', 'hi'] });
  });
});

describe('builtin superclasses', () => {
  it('Error, also through a class in between', () => {
    expect(report.error).toEqual({
      chain: ['JobFailure', 'Error'],
      instanceOfEach: true,
      superclassesLinked: true,
      isError: true,
      name: 'JobFailure',
      message: 'disk full',
    });
    expect(report.errorChain).toEqual({
      chain: ['NotFound', 'RequestFailure', 'Error'],
      instanceOfEach: true,
      superclassesLinked: true,
      isError: true,
      name: 'NotFound',
      message: 'a.txt is missing',
      status: 404,
    });
  });

  it('EventEmitter from node:events and Map keep working', () => {
    expect(report.emitter).toEqual({ value: 1 });
    expect(report.map).toEqual({ value: 3 });
  });
});

describe('what cannot travel is refused when serialized', () => {
  it('a computed member name read from a variable V8 did not keep', () => {
    const { error } = report.computedKey;
    expect(error).toMatchObject({
      stage: 'serialize',
      name: 'NotSerializableError',
      path: "captured variable 'Keyed'",
    });
    expect(error.message).toMatch(/reads 'METHOD' while the class is being defined/);
    expect(error.message).toMatch(/literal member name/);
  });
});

describe('through a queue on a SQLite file', () => {
  it('a worker in another process runs the jobs', async () => {
    const db = path.join(tempDir('duckqueue-subclass-'), 'queue.db');
    const { ids } = JSON.parse(await runChild(script, ['enqueue', db]));
    const { results } = JSON.parse(await runChild(script, ['work', db]));
    const byName = Object.fromEntries(
      Object.entries(ids as Record<string, string>).map(([name, id]) => [
        name,
        results[id],
      ]),
    );
    expect(byName).toEqual({
      subclass: { status: 'done', result: ['hi', 'HI'] },
      chain: { status: 'done', result: ['hi', 'HI', 'hi...'] },
      capturedChain: { status: 'done', result: ['hi...', 'hi'] },
      mixin: { status: 'done', result: '[hi]' },
      mutual: { status: 'done', result: [true, true, 4] },
    });
  }, 120_000);
});
