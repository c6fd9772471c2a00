// The source serializer's promise: every value either arrives as it was
// or is refused when the job is serialized, with an error naming the
// variable or rule. These cases used to pass serialization and then fail
// (or change) on load. Functions are serialized natively in a child
// process: vitest rewrites modules, and with them closures.

import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runChild } from './helpers/children.js';

const script = fileURLToPath(
  new URL('./fixtures/serialize/source-edge-checks.ts', import.meta.url),
);

let report: any;

beforeAll(async () => {
  report = JSON.parse(await runChild(script, []));
}, 120_000);

describe('what a worker would refuse on load is refused on write', () => {
  it.each([
    ['readsConstructor', /property 'constructor'/],
    ['capturesFunction', /builtin 'Function' is in denyNames/],
    ['capturesCjsRequire', /captured variable 'require' is in denyNames/],
    ['usesWith', /with statement/],
  ])('%s', (name, message) => {
    expect(report[name].error).toMatchObject({
      stage: 'serialize',
      name: 'PolicyViolationError',
    });
    expect(report[name].error.message).toMatch(/refused by policy\.denyNames/);
    expect(report[name].error.message).toMatch(message);
  });

  it('a captured variable with the loader-reserved prefix __dq$', () => {
    expect(report.capturesReservedName.error).toMatchObject({
      stage: 'serialize',
      name: 'NotSerializableError',
      path: "captured variable '__dq$limit'",
    });
    expect(report.capturesReservedName.error.message).toMatch(/Rename/);
  });
});

describe('a capture still in its temporal dead zone', () => {
  it('is refused, naming the variable, and the refusal is not kept', () => {
    const { during, after } = report.tooEarly;
    expect(during.refused).toBe(true);
    expect(during.message).toMatch(/'tooEarly' reads 'LIMIT' before its declaration/);
    expect(after).toEqual({ value: 42 });
  });

  it('also inside a function', () => {
    expect(report.innerTooEarly.refused).toBe(true);
    expect(report.innerTooEarly.message).toMatch(/reads 'local'/);
  });
});

describe('captures written by statements that are not assignments', () => {
  it('a `var` declared again in a loop is re-read for each payload', () => {
    expect(report.varInLoop).toEqual([{ value: 0 }, { value: 1 }, { value: 2 }]);
  });

  it('a `var` in a for-in head', () => {
    expect(report.varForIn).toEqual([{ value: 'a' }, { value: 'b' }]);
  });

  it('a parameter written through sloppy-mode arguments[0]', () => {
    expect(report.aliasedParameter).toEqual([{ value: 5 }, { value: 50 }]);
  });
});

describe('what a function text does not say about its prototype', () => {
  it('ES5 methods assigned to Ctor.prototype travel with the constructor', () => {
    expect(report.es5Method).toEqual({ value: 5 });
    expect(report.es5Instance).toEqual({ value: 10 });
  });

  it('ES5 inheritance through Object.create(Parent.prototype)', () => {
    expect(report.es5Inherit).toEqual({
      value: ['Rex makes a sound', 'Rex barks', true],
    });
  });

  it('a method added to a class prototype after its definition', () => {
    expect(report.classMethodAdded).toEqual({ value: 4 });
  });

  it('a non-enumerable static added later is refused, naming it', () => {
    expect(report.hiddenStatic.error).toMatchObject({
      stage: 'serialize',
      name: 'NotSerializableError',
      path: "captured variable 'Config'.version",
    });
  });

  it('a prototype parent swapped with Object.setPrototypeOf is refused', () => {
    expect(report.swappedParent.error).toMatchObject({
      stage: 'serialize',
      name: 'NotSerializableError',
      path: "captured variable 'Plain'.prototype",
    });
    expect(report.swappedParent.error.message).toMatch(/Object\.setPrototypeOf/);
  });
});

describe('values node:v8 would copy only in part', () => {
  it('holes of a sparse array next to a function stay holes', () => {
    expect(report.sparseNextToFunction).toEqual({ value: [4, false] });
  });

  it.each([
    ['mapWithProperty', "captured variable 'tagged'.label", /own property of a Map/],
    ['regexpMidSearch', "captured variable 'search'.lastIndex", /lastIndex 2/],
    [
      'protoKeyNextToFunction',
      "captured variable 'withProtoKey'.__proto__",
      /'__proto__' key/,
    ],
  ])('%s is refused at enqueue', (name, path, message) => {
    expect(report[name].error).toMatchObject({
      stage: 'serialize',
      name: 'NotSerializableError',
      path,
    });
    expect(report[name].error.message).toMatch(message);
  });
});
