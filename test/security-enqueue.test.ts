// The policy is checked when a job is written, not only when it is loaded:
// a producer finds out at enqueue time what its workers would refuse.
// Serializing inspects real functions, so this runs in a child process.

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

interface Result {
  name: string;
  refused: boolean;
  error?: string;
  rule?: string;
  message?: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
let results: Map<string, Result>;

beforeAll(() => {
  const output = execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(here, 'fixtures/hostile/enqueue-checks.ts'), repo],
    { encoding: 'utf8', cwd: repo },
  );
  results = new Map((JSON.parse(output) as Result[]).map((r) => [r.name, r]));
});

const result = (name: string): Result => {
  const found = results.get(name);
  if (!found) throw new Error(`no result for '${name}'`);
  return found;
};

describe('policy on enqueue', () => {
  it('refuses a by-reference function from a module allowModules does not list', () => {
    expect(result('v8 outside allowModules')).toMatchObject({
      refused: true,
      error: 'PolicyViolationError',
      rule: 'allowModules',
    });
    expect(result('v8 outside allowModules').message).toMatch(
      /producer-jobs\.mjs', which allowModules does not list/,
    );
    expect(result('v8 inside allowModules').refused).toBe(false);
  });

  it('refuses to write source payloads under strict, also through auto', () => {
    expect(result('source under strict')).toMatchObject({ refused: true, rule: 'strict' });
    expect(result('auto falls back to source under strict')).toMatchObject({
      refused: true,
      rule: 'strict',
    });
    expect(result('auto by reference under strict').refused).toBe(false);
  });

  it('checks the imports of a source payload against allowModules', () => {
    expect(result('source import not in allowModules')).toMatchObject({
      refused: true,
      rule: 'allowModules',
    });
    expect(result('source import not in allowModules').message).toMatch(/node:fs/);
    expect(result('source import in allowModules').refused).toBe(false);
  });

  it('refuses source code that reaches globals or denied modules around the scan', () => {
    const bypasses: Array<[string, RegExp]> = [
      ['source process.getBuiltinModule', /property 'getBuiltinModule'/],
      ['source destructures globalThis by a computed key', /destructuring of 'globalThis'/],
      ['source destructures process by a computed key', /destructuring of 'process'/],
      ['source (0, globalThis)[k]', /dynamic access .* using 'globalThis'/],
      ['source [globalThis][0][k]', /dynamic access .* using 'globalThis'/],
      ['source Reflect.get on globalThis', /Reflect\.get\(\.\.\.\) on 'globalThis'/],
      ['source Reflect.get on process', /Reflect\.get\(\.\.\.\) on 'process'/],
    ];
    for (const [name, message] of bypasses) {
      expect(result(name), name).toMatchObject({ refused: true, rule: 'denyNames' });
      expect(result(name).message, name).toMatch(message);
    }
    expect(result('source reads process.env[k]').refused).toBe(false);
  });

  it("refuses a free name the loader reserves, like a capture named so", () => {
    expect(result('source reads __dq$method')).toMatchObject({
      refused: true,
      error: 'NotSerializableError',
    });
    expect(result('source reads __dq$method').message).toMatch(
      /reads '__dq\$method'; names starting with '__dq\$' are reserved/,
    );
  });

  it('refuses denied task names and a key ring that cannot sign', () => {
    expect(result('json task named exec')).toMatchObject({ refused: true, rule: 'denyNames' });
    expect(result('verifyKeys without signingKey')).toMatchObject({
      refused: true,
      rule: 'signingKey',
    });
  });
});
