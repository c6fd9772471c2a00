// The attack matrix, run for real in a child process (the attacker's
// source payloads are made from real functions, which needs native module
// identity). These assertions are the claims SECURITY.md makes: what each
// backend lets an attacker do, and which policy stops it.

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

interface Row {
  attack: string;
  backend: string;
  level: string;
  outcome: 'blocked' | 'ran' | 'accepted' | 'n/a';
  error?: string;
  rule?: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
let rows: Row[];

beforeAll(() => {
  const output = execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(here, 'fixtures/hostile/run-matrix.ts')],
    { encoding: 'utf8', cwd: path.resolve(here, '..'), maxBuffer: 16 * 1024 * 1024 },
  );
  rows = JSON.parse(output) as Row[];
});

const at = (attack: string, backend: string, level: string): Row => {
  const row = rows.find(
    (r) => r.attack === attack && r.backend === backend && r.level === level,
  );
  if (!row) throw new Error(`no matrix cell ${attack}/${backend}/${level}`);
  return row;
};

describe('attack matrix', () => {
  it('shows the formats themselves let code run (the canaries work)', () => {
    expect(at('exec-shell', 'v8', 'open').outcome).toBe('ran');
    expect(at('write-file', 'source', 'open').outcome).toBe('ran');
    expect(at('code-on-load', 'source', 'open').outcome).toBe('ran');
  });

  it('json never runs attacker code, at any level', () => {
    const json = rows.filter((r) => r.backend === 'json');
    expect(json.filter((r) => r.outcome === 'ran')).toEqual([]);
  });

  it('default policy stops builtins by reference, but not source code', () => {
    expect(at('exec-shell', 'v8', 'default')).toMatchObject({
      outcome: 'blocked',
      rule: 'denyNames',
    });
    expect(at('write-file', 'v8', 'default')).toMatchObject({
      outcome: 'blocked',
      rule: 'allowModules',
    });
    expect(at('exec-shell', 'source', 'default').outcome).toBe('blocked');
    // A source payload is code: the deny list is a speed bump, not a wall.
    expect(at('write-file', 'source', 'default').outcome).toBe('ran');
    expect(at('code-on-load', 'source', 'default').outcome).toBe('ran');
  });

  it('paths outside the root and data: URLs are refused at every level', () => {
    for (const level of ['open', 'default', 'recommended', 'key-leaked']) {
      expect(at('outside-root', 'v8', level).outcome).toBe('blocked');
      expect(at('data-url', 'v8', level).outcome).toBe('blocked');
      expect(at('data-url', 'source', level).outcome).toBe('blocked');
    }
  });

  it('recommended policy refuses every attack, by signature', () => {
    const recommended = rows.filter(
      (r) => r.level === 'recommended' && r.outcome !== 'n/a',
    );
    expect(recommended.length).toBeGreaterThan(20);
    for (const row of recommended) {
      expect(row, `${row.attack}/${row.backend}`).toMatchObject({
        outcome: 'blocked',
        error: 'SignatureError',
      });
    }
  });

  it('with the key stolen, strict and the lists still stop all code', () => {
    const leaked = rows.filter((r) => r.level === 'key-leaked');
    expect(leaked.filter((r) => r.outcome === 'ran')).toEqual([]);
    for (const backend of ['source', 'auto']) {
      expect(at('code-on-load', backend, 'key-leaked')).toMatchObject({
        outcome: 'blocked',
        rule: 'strict',
      });
    }
    // What a stolen key still buys: honest functions with chosen arguments.
    expect(at('forged-job', 'v8', 'key-leaked').outcome).toBe('accepted');
  });
});
