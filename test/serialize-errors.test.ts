// Every way serializing or loading can go wrong gives a typed error that
// names the bad value and says what to do. These cases need no function
// inspection, so they run in the test process; the ones that inspect
// functions run natively in a child (serialize-native.test.ts).

import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { encodeEnvelope } from '../src/serialize/envelope.js';
import {
  DeserializationError,
  NotSerializableError,
  SerializationError,
  SerializerOptionError,
  UnknownOperationError,
  UnknownSerializerError,
  UnknownTaskError,
} from '../src/serialize/errors.js';
import {
  configTask,
  createSerializer,
  inspectPayload,
  registerConfigTask,
  registerSerializer,
  registeredSerializerNames,
  registerTask,
  unregisterTask,
  type Backend,
} from '../src/serialize/index.js';

function catchError(fn: () => unknown): any {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

async function catchAsync(fn: () => Promise<unknown>): Promise<any> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

const fixtureModule = './test/fixtures/payloads/fixture-jobs.mjs';

describe('createSerializer and registerSerializer', () => {
  it('names the registered serializers when the name is unknown', () => {
    const err = catchError(() => createSerializer('msgpack'));
    expect(err).toBeInstanceOf(UnknownSerializerError);
    expect(err.serializerName).toBe('msgpack');
    for (const name of ['v8', 'json', 'source', 'auto', 'pickle', 'cloudpickle']) {
      expect(err.message).toContain(`'${name}'`);
    }
    expect(err.message).toContain("registerSerializer('msgpack'");
  });

  it('maps pickle to v8 and cloudpickle to source', () => {
    expect(createSerializer('pickle').name).toBe('v8');
    expect(createSerializer('cloudpickle').name).toBe('source');
  });

  it('refuses to replace a built-in or take a bad name or factory', () => {
    expect(() => registerSerializer('v8', () => ({}) as Backend)).toThrow(/built-in/);
    expect(() => registerSerializer('pickle', () => ({}) as Backend)).toThrow(/built-in/);
    expect(() => registerSerializer('has space', () => ({}) as Backend)).toThrow(
      SerializationError,
    );
    expect(() => registerSerializer('nofactory', 42 as never)).toThrow(/factory/);
  });

  it('refuses a factory that does not return a backend', () => {
    registerSerializer('broken-backend', () => ({}) as Backend);
    expect(() => createSerializer('broken-backend')).toThrow(/reads, encode, decode/);
  });

  it('wraps a custom backend in the envelope, checks and metrics', async () => {
    registerSerializer('upper', () => ({
      reads: ['upper'],
      encode: (call) => ({
        format: 'upper',
        header: { fnName: call.fn.name },
        body: new TextEncoder().encode(String(call.args[0]).toUpperCase()),
      }),
      decode: async (payload) => ({
        fn: (s: string) => s,
        args: [new TextDecoder().decode(payload.body)],
        format: payload.format,
        meta: payload.header,
      }),
    }));
    expect(registeredSerializerNames()).toContain('upper');
    const s = createSerializer('upper');
    const bytes = s.serialize({ fn: function shout() {}, args: ['quack'] });
    expect(inspectPayload(bytes)).toMatchObject({ format: 'upper', fnName: 'shout' });
    const call = await s.deserialize(bytes);
    expect(call.fn(...call.args)).toBe('QUACK');
    expect(s.stats().upper).toMatchObject({ count: 1, bytes: bytes.length });
    const err = await catchAsync(() => createSerializer('json').deserialize(bytes));
    expect(err).toBeInstanceOf(DeserializationError);
    expect(err.message).toMatch(/format 'upper'.*reads only 'json'/);
  });
});

describe('options', () => {
  it.each([
    [{ slowSerializationMs: -1 }, /slowSerializationMs/],
    [{ slowSerializationMs: 'fast' }, /slowSerializationMs/],
    [{ root: '' }, /root/],
  ])('refuses %j', (options, message) => {
    const err = catchError(() => createSerializer('json', options as never));
    expect(err).toBeInstanceOf(SerializerOptionError);
    expect(err.message).toMatch(message);
  });

  it('refuses options that are not an object', () => {
    expect(() => createSerializer('json', 5 as never)).toThrow(SerializerOptionError);
  });
});

describe('serialize() arguments', () => {
  it('says what a call must look like', () => {
    const s = createSerializer('json');
    expect(() => s.serialize(null as never)).toThrow(/takes \{ fn, args \}/);
    expect(() => s.serialize({ fn: 'extract', args: [] } as never)).toThrow(
      /call.fn must be a function/,
    );
    expect(() => s.serialize({ fn: () => 1, args: 'x' } as never)).toThrow(
      /call.args must be an array/,
    );
  });
});

describe('task registry', () => {
  it('validates names and functions', () => {
    expect(() => registerTask('', () => 1)).toThrow(/task name/);
    expect(() => registerTask('has space', () => 1)).toThrow(/task name/);
    expect(() => registerTask('ok', 'nope' as never)).toThrow(/must be a function/);
  });

  it('refuses one name for two functions, allows re-registering the same', () => {
    const fn = () => 1;
    registerTask('registry.same', fn);
    registerTask('registry.same', fn);
    expect(() => registerTask('registry.same', () => 2)).toThrow(/already registered/);
    expect(unregisterTask('registry.same')).toBe(true);
    expect(unregisterTask('registry.same')).toBe(false);
    registerTask('registry.same', () => 2);
  });
});

function jsonArgs() {}

describe('json backend', () => {
  const json = createSerializer('json');

  it('refuses an unregistered function and says how to register it', () => {
    const err = catchError(() =>
      json.serialize({ fn: function resizeImage() {}, args: [] }),
    );
    expect(err).toBeInstanceOf(NotSerializableError);
    expect(err.path).toBe('fn');
    expect(err.message).toContain("registerTask('resizeImage', fn)");
  });

  it.each([
    [[{ onDone: () => 1 }], 'args[0].onDone', /function/],
    [[1, Symbol('x')], 'args[1]', /symbol/],
    [[{ v: 2, [Symbol.for('k')]: 1 }], 'args[0][Symbol(k)]', /symbol-keyed/],
    [[new (class Order {})()], 'args[0]', /instance of Order/],
    [[{ data: Buffer.from('x') }], 'args[0].data', /Uint8Array/],
    [[new TypeError('x')], 'args[0]', /TypeError error/],
    [[new Map([['k', () => 1]])], 'args[0].get("k")', /function/],
    [[new WeakMap()], 'args[0]', /WeakMap/],
    [[Promise.resolve(1)], 'args[0]', /Promise/],
    [[new Proxy({}, {})], 'args[0]', /Proxy/],
  ])('refuses %o at %s', (args, path, reason) => {
    registerTask('json.args', jsonArgs);
    const fn = jsonArgs;
    const err = catchError(() => json.serialize({ fn, args }));
    expect(err).toBeInstanceOf(NotSerializableError);
    expect(err.path).toBe(path);
    expect(err.message).toMatch(reason);
  });

  it('keeps Date, Map, Set, BigInt, RegExp, undefined, shared refs and cycles', async () => {
    const fn = function keep(...args: unknown[]) {
      return args;
    };
    registerTask('json.keep', fn);
    const shared = { n: 1 };
    const node: { self?: unknown; when: Date } = { when: new Date(5) };
    node.self = node;
    const args = [
      new Map([[1, new Set([2n])]]),
      /duck/gi,
      undefined,
      [shared, shared],
      node,
    ];
    const call = await json.deserialize(json.serialize({ fn, args }));
    const [map, re, undef, pair, cyc] = call.args as any[];
    expect(map).toEqual(new Map([[1, new Set([2n])]]));
    expect(re).toEqual(/duck/gi);
    expect(undef).toBeUndefined();
    expect(call.args).toHaveLength(5);
    expect(pair[0]).toBe(pair[1]);
    expect(cyc.self).toBe(cyc);
    expect(cyc.when).toEqual(new Date(5));
  });

  it('names an unknown task on load and lists the registered ones', async () => {
    const fn = function onlyHere() {};
    registerTask('json.onlyHere', fn);
    const bytes = json.serialize({ fn, args: [] });
    unregisterTask('json.onlyHere');
    const err = await catchAsync(() => json.deserialize(bytes));
    expect(err).toBeInstanceOf(UnknownTaskError);
    expect(err.taskName).toBe('json.onlyHere');
    expect(err.message).toContain("registerTask('json.onlyHere', fn)");
    expect(err.message).toMatch(/registered tasks: /);
  });

  it('refuses a damaged body', async () => {
    const bytes = encodeEnvelope({
      format: 'json',
      header: { fnName: 'x', task: 'json.keep' },
      body: new TextEncoder().encode('{"json": [1'),
    });
    await expect(json.deserialize(bytes)).rejects.toThrow(DeserializationError);
    const notArray = encodeEnvelope({
      format: 'json',
      header: { fnName: 'x', task: 'json.keep' },
      body: new TextEncoder().encode('{"json": {"a": 1}}'),
    });
    await expect(json.deserialize(notArray)).rejects.toThrow(/not an array/);
  });
});

describe('configuration-based tasks (json without shipping code)', () => {
  const media = registerConfigTask('media', {
    resize: (config: { width: number }, file: string) => `${file}@${config.width}w`,
    crop: (config: { box: number[] }, file: string) => `${file}[${config.box.join(',')}]`,
  });

  it('runs every variation through one registered processor', async () => {
    const json = createSerializer('json');
    for (const [config, expected] of [
      [{ op: 'resize', width: 100 }, 'cat.png@100w'],
      [{ op: 'crop', box: [0, 0, 10, 10] }, 'cat.png[0,0,10,10]'],
    ] as const) {
      const bytes = json.serialize({ fn: media, args: [config, 'cat.png'] });
      expect(inspectPayload(bytes).meta.task).toBe('media');
      const call = await json.deserialize(bytes);
      expect(call.fn(...call.args)).toBe(expected);
    }
    expect(configTask('media')).toBe(media);
  });

  it('names an unknown operation and the known ones', () => {
    const err = catchError(() => media({ op: 'rotate' }, 'cat.png'));
    expect(err).toBeInstanceOf(UnknownOperationError);
    expect(err.message).toMatch(/no operation "rotate"; known: 'resize', 'crop'/);
  });

  it('refuses handlers that are not functions and unknown task names', () => {
    expect(() => registerConfigTask('bad', { x: 1 as never })).toThrow(/handler 'x'/);
    expect(() => configTask('no-such-config-task')).toThrow(UnknownTaskError);
  });
});

describe('v8 backend loading', () => {
  const s = createSerializer('v8');
  const header = (module: string, exportName: string) => ({
    fnName: exportName,
    module,
    exportName,
  });

  it('names the module and export when the export is missing or not a function', async () => {
    for (const [name, message] of [
      ['removed', /export 'removed' is missing.*renamed or removed/],
      ['notAFunction', /export 'notAFunction' is a number, not a function/],
    ] as const) {
      const bytes = encodeEnvelope({
        format: 'v8',
        header: header(fixtureModule, name),
        body: v8.serialize([]),
      });
      const err = await catchAsync(() => s.deserialize(bytes));
      expect(err).toBeInstanceOf(DeserializationError);
      expect(err.message).toContain(fixtureModule);
      expect(err.message).toMatch(message);
    }
  });

  it('says the worker needs the same files when a module is not there', async () => {
    const bytes = encodeEnvelope({
      format: 'v8',
      header: header('./test/fixtures/payloads/gone.mjs', 'run'),
      body: v8.serialize([]),
    });
    const err = await catchAsync(() => s.deserialize(bytes));
    expect(err).toBeInstanceOf(DeserializationError);
    expect(err.message).toMatch(/cannot import module '.\/test\/fixtures\/payloads\/gone.mjs'/);
    expect(err.message).toMatch(/same files/);
  });

  it('refuses damaged arguments and headers naming nothing', async () => {
    const damaged = encodeEnvelope({
      format: 'v8',
      header: header(fixtureModule, 'total'),
      body: Uint8Array.of(1, 2, 3),
    });
    await expect(s.deserialize(damaged)).rejects.toThrow(/arguments are damaged/);
    const nothing = encodeEnvelope({
      format: 'v8',
      header: { fnName: 'x' },
      body: v8.serialize([]),
    });
    await expect(s.deserialize(nothing)).rejects.toThrow(/neither a task nor a module/);
  });

  it('checks arguments with the same paths as json', () => {
    const fn = function v8Args() {};
    registerTask('tasks.argsCheck', fn);
    const err = catchError(() => s.serialize({ fn, args: [{ a: [0, () => 1] }] }));
    expect(err).toBeInstanceOf(NotSerializableError);
    expect(err.path).toBe('args[0].a[1]');
    expect(err.message).toMatch(/use the 'source' serializer/);
  });

  it('sends a registered function by name', async () => {
    const fn = function byName(x: number) {
      return x + 1;
    };
    registerTask('tasks.byName', fn);
    const bytes = s.serialize({ fn, args: [1] });
    expect(inspectPayload(bytes).meta).toMatchObject({ task: 'tasks.byName' });
    const call = await s.deserialize(bytes);
    expect(call.fn).toBe(fn);
  });
});

describe('source backend loading', () => {
  const s = createSerializer('source');
  const body = (holes: unknown[], extra: Record<string, unknown> = {}) =>
    encodeEnvelope({
      format: 'source',
      header: { fnName: 'x' },
      body: v8.serialize({
        v: 1,
        root: { h: 0 },
        args: { v: [] },
        holes,
        marks: holes.map(() => ({})),
        imports: [],
        ...extra,
      }),
    });
  const fnHole = (src: string, caps: unknown[] = []) => ({
    k: 'fn',
    src,
    form: 'expression',
    strict: true,
    caps,
    eager: [],
  });

  it('loads a hand-written body', async () => {
    const call = await s.deserialize(
      body([fnHole('(x) => x * k', [['k', { v: 3 }]])], { args: { v: [5] } }),
    );
    expect(call.fn(...call.args)).toBe(15);
  });

  it.each([
    ['bytes that are not node:v8 data', () =>
      encodeEnvelope({ format: 'source', header: { fnName: 'x' }, body: Uint8Array.of(9) })],
    ['a body of another version', () => body([], { v: 2 })],
    ['a root pointing nowhere', () => body([])],
    ['text that is not one function', () => body([fnHole('1 + 1')])],
    ['text that escapes its wrapper', () => body([fnHole('x => x)\n, (globalThis.pwned = 1')])],
    ['an invalid captured name', () => body([fnHole('() => 1', [['a-b', { v: 1 }]])])],
    ['an unknown entry kind', () => body([{ k: 'eval', src: '1' }])],
  ])('refuses %s', async (_what, make) => {
    const err = await catchAsync(() => s.deserialize(make()));
    expect(err).toBeInstanceOf(DeserializationError);
    expect((globalThis as { pwned?: number }).pwned).toBeUndefined();
  });

  it('names a module an import cannot find', async () => {
    const err = await catchAsync(() =>
      s.deserialize(
        body([fnHole('() => helper()', [['helper', { h: 1 }]]), { k: 'import', i: 0 }], {
          imports: [['./test/fixtures/payloads/gone.mjs', 'helper']],
        }),
      ),
    );
    expect(err).toBeInstanceOf(DeserializationError);
    expect(err.message).toMatch(/gone.mjs/);
  });

  it('names an export that is no longer there', async () => {
    const err = await catchAsync(() =>
      s.deserialize(
        body([fnHole('() => helper()', [['helper', { h: 1 }]]), { k: 'import', i: 0 }], {
          imports: [[fixtureModule, 'helper']],
        }),
      ),
    );
    expect(err).toBeInstanceOf(DeserializationError);
    expect(err.message).toMatch(/has no export 'helper'/);
  });
});

describe('metrics', () => {
  it('counts serializations per format', () => {
    const fn = function counted() {};
    registerTask('metrics.counted', fn);
    const s = createSerializer('json');
    const a = s.serialize({ fn, args: [1] });
    const b = s.serialize({ fn, args: ['two'] });
    const stats = s.stats().json!;
    expect(stats.count).toBe(2);
    expect(stats.bytes).toBe(a.length + b.length);
    expect(stats.totalMs).toBeGreaterThanOrEqual(0);
  });

  it('emits slowSerialization above the threshold, with name and time', () => {
    registerSerializer('slow-on-purpose', () => ({
      reads: ['slow-on-purpose'],
      encode(call) {
        const until = performance.now() + 5;
        while (performance.now() < until) {
          // Hold the thread: this backend is slow by construction.
        }
        return { format: 'slow-on-purpose', header: { fnName: call.fn.name }, body: new Uint8Array() };
      },
      decode: async () => {
        throw new DeserializationError('not used');
      },
    }));
    const events: unknown[] = [];
    const slow = createSerializer('slow-on-purpose', { slowSerializationMs: 1 });
    slow.on('slowSerialization', (e) => events.push(e));
    slow.serialize({ fn: function heavy() {}, args: [] });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ fnName: 'heavy', format: 'slow-on-purpose', thresholdMs: 1 });
    expect((events[0] as { ms: number }).ms).toBeGreaterThanOrEqual(5);
    const quiet = createSerializer('slow-on-purpose', { slowSerializationMs: 60_000 });
    const none: unknown[] = [];
    quiet.on('slowSerialization', (e) => none.push(e));
    quiet.serialize({ fn: function heavy() {}, args: [] });
    expect(none).toEqual([]);
  });
});
