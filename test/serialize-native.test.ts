// Serializer behaviour that depends on real module code: functions are
// inspected in a child process started with `node --import tsx`, where
// they have their true ESM source and identity (vitest rewrites modules).

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const script = fileURLToPath(new URL('./fixtures/serialize/native-checks.ts', import.meta.url));

function child(args: string[]): Promise<any> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', script, ...args],
      { cwd: repoRoot, timeout: 120_000, maxBuffer: 8 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout));
      },
    );
  });
}

let report: any;

beforeAll(async () => {
  report = await child([]);
}, 120_000);

describe('v8 by reference refuses what no module exports', () => {
  it.each([
    ['v8Lambda', /arrow function .* inside another function/],
    ['v8Nested', /arrow function \(in .\/test\/fixtures\/serialize\/jobs.ts\)/],
    ['v8NotExported', /'notExported' .* is not exported from its module/],
    ['v8Bound', /bound function/],
    ['v8Native', /native code/],
    ['v8Eval', /script with no file/],
    ['v8Method', /'first' .* inside another function or class/],
  ])('%s', (name, reason) => {
    const r = report[name];
    expect(r).toMatchObject({ refused: true, error: 'NotSerializableError', path: 'fn' });
    expect(r.reason).toMatch(reason);
    expect(r.message).toMatch(/registerTask\(name, fn\)/);
    expect(r.message).toMatch(/'source'/);
  });
});

describe('TypeScript modules run through tsx', () => {
  it('load by reference: the same function object, found automatically', () => {
    expect(report.tsByReference).toEqual({
      module: './test/fixtures/serialize/jobs.ts',
      exportName: 'countItems',
      sameFunction: true,
      result: 3,
    });
    expect(report.tsClassByReference).toEqual({ first: 'a', exportName: 'Shelf' });
  });

  it('finds a factory-made function through the exported binding holding it', () => {
    expect(report.factoryExport).toEqual({
      exportName: 'triple',
      sameFunction: true,
      result: 15,
    });
  });

  it('load by source: a new function with the same behaviour', () => {
    expect(report.tsBySource).toEqual({ format: 'source', sameFunction: false, result: 3 });
  });
});

describe('packages', () => {
  it('are stored as the package specifier that imports the file', () => {
    expect(report.packageByReference).toEqual({
      module: 'lodash-es/chunk.js',
      exportName: 'default',
      sameFunction: true,
      result: [[1, 2], [3]],
    });
  });
});

describe('source backend', () => {
  it('takes captures as a snapshot at serialize time', () => {
    expect(report.snapshot).toEqual({
      letBefore: 1,
      letAfter: 2,
      objectBefore: 1,
      objectAfter: 5,
    });
  });

  it('keeps one function one function, in captures and in arguments', () => {
    expect(report.identity).toEqual({ captured: true, args: true, argsWork: 2 });
  });

  it('rebuilds subclasses (extends a captured class) and function properties', () => {
    expect(report.sourceSubclass).toBe('child of base');
    expect(report.sourceFunctionProps).toEqual({ retries: 3, result: 8 });
    expect(report.sourceSymbolFor).toBe(true);
  });

  it.each([
    ['sourceArrowThis', 'fn', /arrow function that uses 'this'/],
    ['sourceSuperMethod', 'fn', /uses 'super'/],
    ['sourceUniqueSymbol', "captured variable 'unique'", /unique Symbol/],
    ['sourcePromise', "captured variable 'pending'", /Promise/],
    ['sourceProxy', "captured variable 'proxied'", /Proxy/],
    ['sourceDeepSocket', "captured variable 'conn'", /Socket from node:net/],
    ['sourceSocketArg', 'args[0].conn', /Socket from node:net/],
    ['sourceSymbolKey', "captured variable 'tagged'[Symbol(id)]", /symbol-keyed/],
    ['sourceGetter', "captured variable 'counter'.twice", /getter/],
    ['sourceNullProto', "captured variable 'bare'", /no prototype/],
    ['sourceErrorProps', "captured variable 'failure'.code", /Error/],
  ])('refuses %s at %s', (name, where, reason) => {
    const r = report[name];
    expect(r).toMatchObject({ refused: true, error: 'NotSerializableError', path: where });
    expect(r.reason).toMatch(reason);
  });
});

describe('auto', () => {
  it('falls back to source, records why in the header and emits an event', () => {
    const a = report.auto;
    expect(a.fallbackFormat).toBe('source');
    expect(a.fallbackReason).toMatch(/^fn: arrow function .* inside another function/);
    expect(a.refFormat).toBe('v8');
    expect(a.events).toEqual([
      { fnName: '', from: 'v8', to: 'source', reason: a.fallbackReason },
    ]);
    expect(a.result).toBe(6);
    expect(a.stats).toEqual(['source', 'v8']);
  });

  it('writes source payloads that a v8 serializer refuses to load', () => {
    expect(report.v8RefusesSourcePayload).toMatch(
      /^DeserializationError: payload is in format 'source' but serializer 'v8'/,
    );
  });
});

describe('module locations relative to root', () => {
  let root: string;
  const file = () => path.join(root, 'jobs', 'shipping.mjs');

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'duckqueue-root-'));
    await import('node:fs/promises').then((fs) => fs.mkdir(path.join(root, 'jobs')));
    await writeFile(file(), 'export function ship(n) { return n * 10; }\n');
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stores the path relative to root and loads it there', async () => {
    const written = await child(['write', root, file(), 'ship']);
    expect(written.info.module).toBe('./jobs/shipping.mjs');
    expect(await child(['read', root, written.payload])).toEqual({ result: 20 });
  });

  it('names module and export when the export was removed since enqueue', async () => {
    const written = await child(['write', root, file(), 'ship']);
    await writeFile(file(), 'export function deliver(n) { return n; }\n');
    const read = await child(['read', root, written.payload]);
    expect(read.error).toBe('DeserializationError');
    expect(read.message).toContain("module './jobs/shipping.mjs' export 'ship' is missing");
    await writeFile(file(), 'export function ship(n) { return n * 10; }\n');
  });
});
