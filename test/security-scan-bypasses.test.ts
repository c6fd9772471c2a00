// Ways around the source code scan that reach eval, a denied module or the
// loader's internals without writing a denied name. Each shape is refused
// by the default deny list; the look-alike honest shapes next to them are
// not. Load and enqueue are covered by the hostile catalogue
// (fixtures/hostile/source-cases.ts) and security-enqueue.test.ts.

import { describe, expect, it } from 'vitest';
import { PolicyViolationError } from '../src/serialize/errors.js';
import { scanCode } from '../src/serialize/policy-code-scan.js';
import { DenyList } from '../src/serialize/policy-names.js';
import {
  DEFAULT_DENY_NAMES,
  resolvePolicy,
  ruleOf,
} from '../src/serialize/policy.js';

const deny = new DenyList(DEFAULT_DENY_NAMES);
const cp = new Map([['cp', 'node:child_process']]);
const scan = (code: string) =>
  scanCode(code, { deny, moduleBindings: cp, reservedPrefix: '__dq$' });
const shown = (code: string): string => {
  const finding = scan(code);
  return finding ? `${finding.what}: ${finding.why}` : 'accepted';
};

const refused: Array<[string, RegExp]> = [
  // process.getBuiltinModule is require by another name.
  [
    "return process.getBuiltinModule('node:child_process').execSync('id')",
    /property 'getBuiltinModule'/,
  ],
  ["const { getBuiltinModule: g } = process; return g('vm')", /'getBuiltinModule'/],
  // Computed keys in destructuring.
  ["const { [k]: e } = globalThis; return e('1')", /destructuring of 'globalThis'/],
  ["const { ['bind' + 'ing']: b } = process; return b", /destructuring of 'process'/],
  ['let e; ({ [k]: e } = global); return e', /destructuring of 'global'/],
  ['for (const { [k]: e } of [globalThis]) return e', /destructuring of 'globalThis'/],
  ['const { a: { [k]: e } } = { a: self }; return e', /destructuring of 'self'/],
  ['function f({ [k]: e } = globalThis) { return e } return f()', /destructuring/],
  ["const { [k]: run } = cp; return run('id')", /denied module 'node:child_process'/],
  // Computed access on an expression that yields a global object.
  ["return (0, globalThis)['ev' + 'al']('1')", /dynamic access .* 'globalThis'/],
  ["return [globalThis][0]['ev' + 'al']('1')", /dynamic access .* 'globalThis'/],
  ['return (x || process)[k]', /dynamic access .* 'process'/],
  ['return globalThis.window[k]', /dynamic access .* 'globalThis'/],
  ['return (() => global)()[k]', /dynamic access .* 'global'/],
  ["return (0, cp)['exec' + 'Sync']('id')", /denied module 'node:child_process'/],
  // Reflect and Object readers with such a target.
  ["return Reflect.get(globalThis, 'ev' + 'al')('1')", /Reflect\.get\(\.\.\.\) on 'globalThis'/],
  ["return Reflect['get'](process, k)", /Reflect\.get\(\.\.\.\) on 'process'/],
  ["return Reflect.get(cp, 'exec' + 'Sync')('id')", /Reflect\.get.*child_process/],
  ['return Reflect.apply(f, globalThis, [])', /Reflect\.apply/],
  ['return Reflect.construct(C, [global])', /Reflect\.construct/],
  ['return Object.getOwnPropertyDescriptor(globalThis, k).value', /getOwnPropertyDescriptor/],
  ['return Object.values(globalThis)[i]', /Object\.values/],
  // The loader's own helper names.
  ['return __dq$method({ m() {} })', /identifier '__dq\$method'.*belong to the loader/],
  ['return () => __dq$v', /identifier '__dq\$v'/],
];

const accepted = [
  'return process.env[name] ?? process.argv[2]',
  'return data.items[k] + list[0][1]',
  'const { [k]: v } = options; return v',
  'const { [k]: v } = process.env; return v',
  'return Reflect.get(obj, k)',
  'return Object.values(row)[0]',
  'const __dq$local = 1; return __dq$local',
  'return globalThis.structuredClone(x)',
];

describe('code scan bypasses', () => {
  for (const [code, expected] of refused) {
    it(`refuses ${code}`, () => {
      expect(shown(code)).toMatch(expected);
    });
  }
  for (const code of accepted) {
    it(`accepts ${code}`, () => {
      expect(shown(code)).toBe('accepted');
    });
  }

  it('lists getBuiltinModule in the default deny list', () => {
    expect(DEFAULT_DENY_NAMES).toContain('getBuiltinModule');
  });

  it('refuses through Policy.checkSourceCode with the rule named', () => {
    const policy = resolvePolicy({ signingKey: null });
    let caught: unknown;
    try {
      policy.checkSourceCode("return (0, globalThis)['ev' + 'al']", 'function 0');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PolicyViolationError);
    expect(ruleOf(caught as Error)).toBe('denyNames');
    expect((caught as Error).message).toMatch(/function 0 uses dynamic access/);
  });
});
