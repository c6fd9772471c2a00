import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { jsonDepth, v8Depth } from '../src/serialize/depth-scan.js';
import {
  SerializerOptionError,
  PolicyViolationError,
} from '../src/serialize/errors.js';
import { scanCode } from '../src/serialize/policy-code-scan.js';
import {
  classifyModule,
  compileModulePattern,
  ModuleRefusal,
} from '../src/serialize/policy-modules.js';
import { DenyList, skeleton } from '../src/serialize/policy-names.js';
import {
  DEFAULT_DENY_NAMES,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_PAYLOAD_BYTES,
  resolvePolicy,
  resolvePolicyOptions,
  ruleOf,
} from '../src/serialize/policy.js';

const root = mkdtempSync(path.join(tmpdir(), 'dq-policy-'));
mkdirSync(path.join(root, 'src/jobs'), { recursive: true });
writeFileSync(path.join(root, 'src/jobs/a.js'), 'export const a = 1;\n');
symlinkSync('/etc', path.join(root, 'etc-link'));

function refusal(fn: () => void): PolicyViolationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyViolationError);
    return error as PolicyViolationError;
  }
  throw new Error('expected a PolicyViolationError, nothing was thrown');
}

describe('resolvePolicyOptions', () => {
  it('documents its defaults in one place', () => {
    const resolved = resolvePolicyOptions({}, {});
    expect(resolved).toEqual({
      allowModules: null,
      denyNames: DEFAULT_DENY_NAMES,
      strict: false,
      signingKey: null,
      verifyKeys: [],
      maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
      maxDepth: DEFAULT_MAX_DEPTH,
    });
  });

  it('takes the signing key from DUCKQUEUE_SIGNING_KEY unless told null', () => {
    const env = { DUCKQUEUE_SIGNING_KEY: 'from-the-environment-123' };
    expect(resolvePolicyOptions({}, env).signingKey).toBe(
      'from-the-environment-123',
    );
    expect(resolvePolicyOptions({ signingKey: null }, env).signingKey).toBe(
      null,
    );
    expect(resolvePolicy({}, root, env).signs).toBe(true);
  });

  it('names an unknown option and lists the valid ones', () => {
    expect(() => resolvePolicyOptions({ allowModule: [] } as never)).toThrow(
      SerializerOptionError,
    );
    expect(() => resolvePolicyOptions({ allowModule: [] } as never)).toThrow(
      /'allowModule'.*allowModules, denyNames, strict/,
    );
  });

  it('refuses values of the wrong type or range', () => {
    const bad = [
      { maxDepth: 0 },
      { maxPayloadBytes: -1 },
      { maxPayloadBytes: 1.5 },
      { strict: 'yes' },
      { allowModules: 'src' },
      { denyNames: [1] },
      { verifyKeys: 'k' },
    ];
    for (const options of bad) {
      expect(() => resolvePolicyOptions(options as never)).toThrow(
        SerializerOptionError,
      );
    }
  });
});

describe('classifyModule', () => {
  const cases: Array<[string, string | RegExp]> = [
    ['node:fs', 'builtin node:fs'],
    ['fs', 'builtin node:fs'],
    ['lodash-es', 'package lodash-es'],
    ['@scope/pkg/sub.js', 'package @scope/pkg/sub.js'],
    ['src/jobs/a.js', 'package src/jobs/a.js'],
    ['./src/jobs/a.js', 'file src/jobs/a.js'],
    ['../../etc/x.js', /outside the root/],
    ['src/../../x.js', /outside the root/],
    ['/etc/passwd', /outside the root/],
    ['file:///etc/x.js', /outside the root/],
    ['etc-link/passwd', 'package etc-link/passwd'],
    ['./etc-link/passwd', /link to .*outside the root/],
    ['data:text/javascript,export default 1', /'data:' URLs/],
    ['https://example.invalid/x.js', /'https:' URLs/],
    ['node:nonexistent', /not a Node.js builtin/],
    ['x\u0000y', /control characters/],
    ['', /missing/],
  ];
  for (const [specifier, expected] of cases) {
    it(`${JSON.stringify(specifier)} -> ${String(expected)}`, () => {
      const result = classifyModule(specifier, root);
      if (typeof expected === 'string') {
        expect(result).not.toBeInstanceOf(ModuleRefusal);
        const { kind, normal } = result as { kind: string; normal: string };
        expect(`${kind} ${normal}`).toBe(expected);
      } else {
        expect(result).toBeInstanceOf(ModuleRefusal);
        expect((result as ModuleRefusal).why).toMatch(expected);
      }
    });
  }

  it('accepts an absolute path and a file: URL inside the root', () => {
    const file = path.join(root, 'src/jobs/a.js');
    expect(classifyModule(file, root)).toEqual({
      kind: 'file',
      normal: 'src/jobs/a.js',
    });
    expect(classifyModule(`file://${file}`, root)).toEqual({
      kind: 'file',
      normal: 'src/jobs/a.js',
    });
  });
});

describe('compileModulePattern', () => {
  it('matches a module and everything under it', () => {
    const lodash = compileModulePattern('lodash-es');
    expect(lodash('lodash-es')).toBe(true);
    expect(lodash('lodash-es/fp.js')).toBe(true);
    expect(lodash('lodash-esx')).toBe(false);
  });

  it('supports * within a segment and ** across segments', () => {
    const one = compileModulePattern('src/*.job.js');
    expect(one('src/a.job.js')).toBe(true);
    expect(one('src/x/a.job.js')).toBe(false);
    const many = compileModulePattern('./src/**/*.job.js');
    expect(many('src/x/y/a.job.js')).toBe(true);
  });

  it('writes builtins either way and accepts RegExps', () => {
    expect(compileModulePattern('fs')('node:fs')).toBe(true);
    expect(compileModulePattern(/^node:(fs|path)$/g)('node:path')).toBe(true);
  });
});

describe('Policy.checkModule', () => {
  const policy = resolvePolicy({}, root, {});

  it('refuses denied modules with and without node:', () => {
    for (const module of ['child_process', 'node:child_process', 'node:vm']) {
      const error = refusal(() =>
        policy.checkModule({ module, exportName: 'x', where: 'fn' }, 'function'),
      );
      expect(error.message).toMatch(/policy\.denyNames/);
      expect(ruleOf(error)).toBe('denyNames');
    }
  });

  it('refuses a lookalike of a denied module', () => {
    const error = refusal(() =>
      policy.checkModule(
        { module: 'node:\u0441hild_process', where: 'fn' },
        'function',
      ),
    );
    expect(error.message).toMatch(/looks like the denied module 'child_process'/);
    // The Cyrillic letter is shown escaped, not hidden.
    expect(error.message).toContain('\\u{0441}');
  });

  it('refuses builtins as job functions unless allowModules lists them', () => {
    const ref = { module: 'node:fs', exportName: 'writeFileSync', where: 'fn' };
    expect(ruleOf(refusal(() => policy.checkModule(ref, 'function')))).toBe(
      'allowModules',
    );
    expect(() => policy.checkModule(ref, 'import')).not.toThrow();
    const allowing = resolvePolicy({ allowModules: ['node:fs'] }, root, {});
    expect(() => allowing.checkModule(ref, 'function')).not.toThrow();
  });

  it('with allowModules, refuses everything it does not list', () => {
    const narrow = resolvePolicy({ allowModules: ['src/jobs'] }, root, {});
    const ok = { module: 'src/jobs/a.js', exportName: 'a', where: 'fn' };
    expect(() => narrow.checkModule(ok, 'function')).not.toThrow();
    const other = { module: 'lodash-es', exportName: 'chunk', where: 'fn' };
    expect(refusal(() => narrow.checkModule(other, 'function')).message).toMatch(
      /'lodash-es', which allowModules does not list/,
    );
  });

  it('refuses paths outside the root even when allowModules is wide open', () => {
    const open = resolvePolicy({ allowModules: [/.*/] }, root, {});
    for (const module of ['../../etc/x.js', '/etc/x.js', 'file:///etc/x.js']) {
      expect(
        refusal(() => open.checkModule({ module, where: 'fn' }, 'function'))
          .message,
      ).toMatch(/outside the root/);
    }
  });

  it('refuses denied export names', () => {
    const ref = { module: 'src/jobs/a.js', exportName: 'eval', where: 'fn' };
    expect(refusal(() => policy.checkModule(ref, 'function')).message).toMatch(
      /fn export 'eval' is in denyNames/,
    );
  });
});

describe('DenyList lookalikes', () => {
  const deny = new DenyList(DEFAULT_DENY_NAMES);

  it('maps mixed-script and invisible characters to their ASCII shape', () => {
    expect(skeleton('\u0435val')).toBe('eval');
    expect(skeleton('ev\u200bal')).toBe('eval');
    expect(skeleton('\uff45\uff56\uff41\uff4c')).toBe('eval');
  });

  it('reports exact names and lookalikes differently', () => {
    expect(deny.match('eval')).toEqual({ kind: 'exact', denied: 'eval' });
    expect(deny.match('\u0435val')).toEqual({
      kind: 'lookalike',
      denied: 'eval',
    });
    expect(deny.match('evaluate')).toBeNull();
    expect(deny.match('caf\u00e9')).toBeNull();
  });
});

describe('scanCode', () => {
  const deny = new DenyList(DEFAULT_DENY_NAMES);
  const scan = (code: string, bindings?: Map<string, string>) =>
    scanCode(code, { deny, moduleBindings: bindings });

  const refused: Array<[string, RegExp]> = [
    ['return eval("1+1")', /identifier 'eval'/],
    ['return new Function("return process")()', /identifier 'Function'/],
    ['return [].map.constructor("x")', /property 'constructor'/],
    ['return process.binding("spawn_sync")', /property 'binding'/],
    ['return process.mainModule.require("fs")', /property 'require'/],
    ['return globalThis["ev" + "al"]("1")', /dynamic access globalThis\[/],
    ['return import("node:fs")', /dynamic import/],
    ['const { binding } = process; return binding("x")', /property 'binding'/],
    ['Object.prototype.polluted = 1', /property 'prototype'/],
    ['Object.assign(Object.prototype, { polluted: 1 })', /property 'prototype'/],
    ['delete Array.prototype.map', /property 'prototype'/],
    ['return o.__proto__', /property '__proto__'/],
    ['return this.constructor.constructor("x")()', /property 'constructor'/],
    ['return context.runInThisContext("1")', /property 'runInThisContext'/],
    ['return x["runInNewContext"]("1")', /property 'runInNewContext'/],
    ['return x[`binding`]("id")', /property 'binding'/],
    ['return \u0435val("1")', /looks like the denied name 'eval'/],
    ['return require("child_process")', /identifier 'require'/],
    ['with (o) { return a }', /with statement|does not parse/],
    ['return (', /does not parse/],
  ];
  for (const [code, expected] of refused) {
    it(`refuses ${code}`, () => {
      const finding = scan(code);
      expect(finding).not.toBeNull();
      expect(`${finding!.what}: ${finding!.why}`).toMatch(expected);
    });
  }

  it('flags exec-like methods only on a denied module binding', () => {
    const bindings = new Map([['cp', 'node:child_process']]);
    expect(scan("return cp.exec('id')", bindings)?.what).toBe("property 'exec'");
    expect(scan("return re.exec('id')", bindings)).toBeNull();
  });

  it("flags cp['exec' + ''] as dynamic access to a denied module", () => {
    const finding = scan("return cp['exec' + '']('id')", new Map([['cp', 'node:child_process']]));
    expect(finding?.what).toMatch(/dynamic access cp\[\.\.\.\] on denied module 'node:child_process'/);
  });

  const allowed = [
    'return "eval is only a word here"',
    'return o.evaluate(x) + evalScore',
    'const exec = (x) => x * 2; return exec(3)',
    'return data[key] + list[0]',
    'return _[name](x)',
    'return /x/.test(s) && s.length',
    'return /a(b)/.exec(s)?.[1]',
    'return this.constructor.name + new this.constructor().x',
    'return Array.prototype.slice.call(args)',
    'return Object.keys(Foo.prototype)',
  ];
  for (const code of allowed) {
    it(`allows ${code}`, () => {
      expect(scan(code, new Map([['_', 'lodash-es']]))).toBeNull();
    });
  }

  it('reports deep nesting as a finding, not a crash', () => {
    const finding = scan('return ' + '('.repeat(100_000) + '1' + ')'.repeat(100_000));
    expect(finding?.why).toMatch(/nested too deeply|does not parse/);
  });
});

describe('depth pre-scans', () => {
  const nest = (n: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < n; i++) value = i % 2 ? [value] : { a: value };
    return value;
  };

  it('measure v8 buffers exactly, for every container kind', () => {
    const cases: Array<[unknown, number]> = [
      [1, 0],
      ['a[b{', 0],
      [nest(5), 5],
      [new Map([[1, new Set([{}])]]), 3],
      [
        {
          d: new Date(),
          r: /x[{]/gi,
          b: Buffer.from('{{{{'),
          u: new Uint16Array(3),
          n: 12345678901234567890n,
          s: '\u00fcnic\u00f6de{',
          hole: [, 1],
          deep: { deeper: [] },
        },
        3,
      ],
      [[new Number(3), new String('{x'), Object(5n)], 1],
    ];
    for (const [value, depth] of cases) {
      expect(v8Depth(v8.serialize(value), 100)).toEqual({
        depth,
        exceeded: false,
        complete: true,
      });
    }
  });

  it('stop at the limit without recursion', () => {
    const deep = v8.serialize(nest(1000));
    expect(v8Depth(deep, 50)).toMatchObject({ exceeded: true, depth: 51 });
    const text = Buffer.from('['.repeat(1_000_000) + ']'.repeat(1_000_000));
    expect(jsonDepth(text, 200)).toMatchObject({ exceeded: true });
  });

  it('ignore brackets inside JSON strings', () => {
    const text = Buffer.from(JSON.stringify({ a: '[[[{{{', b: ['\\"[['] }));
    expect(jsonDepth(text, 10)).toEqual({
      depth: 2,
      exceeded: false,
      complete: true,
    });
  });

  it('Policy.checkDepth refuses over the limit with the rule named', () => {
    const policy = resolvePolicy({ maxDepth: 10 }, root, {});
    expect(() => policy.checkDepth(v8.serialize(nest(10)), 'v8', 'args')).not.toThrow();
    const error = refusal(() =>
      policy.checkDepth(v8.serialize(nest(11)), 'v8', 'args'),
    );
    expect(error.message).toMatch(/policy\.maxDepth: args is nested more than 10/);
  });
});

describe('Policy.checkOutgoing', () => {
  it('refuses on write a payload workers would refuse for its size', () => {
    const policy = resolvePolicy({ maxPayloadBytes: 100 }, root, {});
    const encoded = {
      format: 'json',
      header: { fnName: 'noop', task: 'noop' },
      body: new Uint8Array(101),
    };
    const error = refusal(() => policy.checkOutgoing(encoded));
    expect(ruleOf(error)).toBe('maxPayloadBytes');
    expect(() =>
      policy.checkOutgoing({ ...encoded, body: new Uint8Array(100) }),
    ).not.toThrow();
  });

  it('refuses code-carrying formats on write under strict', () => {
    const policy = resolvePolicy({ strict: true }, root, {});
    const source = { format: 'source', header: { fnName: 'f' }, body: new Uint8Array(1) };
    expect(ruleOf(refusal(() => policy.checkOutgoing(source)))).toBe('strict');
  });
});
