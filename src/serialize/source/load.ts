// Rebuilds a call from a source body. Each function is compiled by a small
// module-like factory: its captured variables become `let` bindings next to
// it, so closures keep working, and two functions that capture each other
// are both created before either binding is filled in.
//
// A class needs its superclass while it is defined, and that superclass
// may in turn capture the subclass (`static make() { return new Sub() }`).
// Such a binding is filled in once the subclass exists, so both sides see
// one and the same class.
//
// Caveat: the factory runs with `new Function` in this process's realm.
// That is not a security boundary, and neither would node:vm be: a source
// payload is code, and loading it runs code. Accept source payloads only
// from producers you trust, or turn on the payload policy (signing, strict).

import { createRequire } from 'node:module';
import path from 'node:path';
import v8 from 'node:v8';
import type { LoadChecks } from '../backend.js';
import { DeserializationError } from '../errors.js';
import { importModule, isRelativeId } from '../module-ref.js';
import type { ResolvedSerializerOptions } from '../options.js';
import type { Hole, Slot, SourceBody } from './encode.js';
import { SOURCE_BODY_VERSION } from './encode.js';
import { factoryCode, isCaptureName } from './factory-code.js';
import { analyzeFunctionText } from './function-text.js';
import { resolveBuiltinPath } from './globals.js';

export interface LoadedSource {
  fn: (...args: any[]) => unknown;
  args: unknown[];
}

function damaged(what: string, cause?: unknown): DeserializationError {
  return new DeserializationError(`source payload is damaged: ${what}`, { cause });
}

export function readSourceBody(bytes: Uint8Array): SourceBody {
  let body: unknown;
  try {
    body = v8.deserialize(bytes);
  } catch (cause) {
    throw damaged('node:v8 could not read the body', cause);
  }
  const b = body as SourceBody;
  if (
    typeof b !== 'object' ||
    b === null ||
    b.v !== SOURCE_BODY_VERSION ||
    !Array.isArray(b.holes) ||
    !Array.isArray(b.marks) ||
    !Array.isArray(b.imports) ||
    b.marks.length !== b.holes.length
  ) {
    throw damaged(
      `expected a version ${SOURCE_BODY_VERSION} body with holes, marks ` +
        'and imports',
    );
  }
  return b;
}

export async function loadSourceBody(
  body: SourceBody,
  options: ResolvedSerializerOptions,
): Promise<LoadedSource> {
  const imports = await Promise.all(
    body.imports.map((entry, i) => loadImport(entry, i, options)),
  );
  const rebuild = new Rebuild(body, imports, options.root, options.policy);
  const fn = rebuild.slot(body.root, 'fn');
  if (typeof fn !== 'function') throw damaged('the root is not a function');
  const args = rebuild.slot(body.args, 'args');
  if (!Array.isArray(args)) throw damaged('the arguments are not an array');
  rebuild.assertSettled();
  return { fn: fn as (...args: any[]) => unknown, args };
}

async function loadImport(
  entry: unknown,
  index: number,
  options: ResolvedSerializerOptions,
): Promise<unknown> {
  if (
    !Array.isArray(entry) ||
    typeof entry[0] !== 'string' ||
    typeof entry[1] !== 'string'
  ) {
    throw damaged(`import ${index} is not [module, name]`);
  }
  const [module, name] = entry as [string, string];
  options.policy?.checkModule?.(
    { module, exportName: name === '*' ? undefined : name, where: `import ${index}` },
    'import',
  );
  const ns = await importModule(module, options.root);
  if (name === '*') return ns;
  if (name in ns) return ns[name];
  const cjs = ns.default as Record<string, unknown> | undefined;
  if (cjs && (typeof cjs === 'object' || typeof cjs === 'function') && name in cjs) {
    return cjs[name];
  }
  throw new DeserializationError(
    `module '${module}' has no export '${name}' any more; deploy the same ` +
      'code to producer and worker',
  );
}

interface Factory {
  make(): unknown;
  set: ((value: unknown) => void)[];
}

const compiled = new Map<string, (method: typeof methodOf) => Factory>();
const COMPILED_LIMIT = 2000;

/** The single function or accessor an object literal `{ m() {} }` holds. */
function methodOf(holder: object): unknown {
  const descriptors = Object.getOwnPropertyDescriptors(holder);
  const key = Reflect.ownKeys(descriptors)[0]!;
  const d = descriptors[key as string]!;
  return d.value ?? d.get ?? d.set;
}

/** A class was asked for while its own `extends` was being worked out. */
class NotYetDefined extends Error {
  constructor(readonly index: number) {
    super(
      `function ${index} is needed while it is being defined (classes ` +
        'that need each other to be defined)',
    );
  }
}

class Rebuild {
  private readonly done = new Map<number, unknown>();
  private readonly markIndex = new Map<unknown, number>();
  private readonly filled = new Set<object>();
  /** Objects holes produced: never data, never walked by fill(). */
  private readonly produced = new Set<object>();
  /** Classes whose definition-time captures are being rebuilt. */
  private readonly defining = new Set<number>();
  /** Work that waits for a class in `defining` to exist. */
  private readonly waiting = new Map<number, (() => void)[]>();

  constructor(
    private readonly body: SourceBody,
    private readonly imports: unknown[],
    private readonly root: string,
    private readonly policy: LoadChecks | undefined,
  ) {
    body.marks.forEach((mark, i) => this.markIndex.set(mark, i));
  }

  slot(slot: Slot, where: string): unknown {
    if (typeof slot !== 'object' || slot === null) {
      throw damaged(`${where} is not a slot`);
    }
    if ('h' in slot) return this.hole(slot.h, where);
    if ('d' in slot) return this.fill(slot.d);
    if ('v' in slot) return slot.v;
    throw damaged(`${where} is not a slot`);
  }

  /** True once every binding that waited for a class has been filled. */
  assertSettled(): void {
    if (this.waiting.size > 0) {
      throw damaged('some captures wait for a class that was never defined');
    }
  }

  /**
   * Replaces marks inside decoded data, in place (the data is ours). If a
   * mark stands for a class not defined yet, this throws NotYetDefined and
   * can be run again later: what it replaced so far is skipped then.
   */
  private fill(value: unknown): unknown {
    if (typeof value !== 'object' || value === null) return value;
    const mark = this.markIndex.get(value);
    if (mark !== undefined) return this.hole(mark, 'data');
    if (this.filled.has(value) || this.produced.has(value)) return value;
    this.filled.add(value);
    try {
      this.fillInside(value);
    } catch (err) {
      this.filled.delete(value);
      throw err;
    }
    return value;
  }

  private fillInside(value: object): void {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (i in value) value[i] = this.fill(value[i]);
      }
    } else if (value instanceof Map) {
      const entries = [...value].map(([k, v]) => [this.fill(k), this.fill(v)]);
      value.clear();
      for (const [k, v] of entries) value.set(k, v);
    } else if (value instanceof Set) {
      const items = [...value].map((v) => this.fill(v));
      value.clear();
      for (const v of items) value.add(v);
    } else if (Object.getPrototypeOf(value) === Object.prototype) {
      const obj = value as Record<string, unknown>;
      for (const key of Object.keys(obj)) obj[key] = this.fill(obj[key]);
    }
  }

  /** Runs `task` now, or once the class it needs has been defined. */
  private settle(task: () => void): void {
    try {
      task();
    } catch (err) {
      this.retryLater(err, task);
    }
  }

  /** Queues `task` behind the class `err` waits for; rethrows the rest. */
  private retryLater(err: unknown, task: () => void): void {
    if (!(err instanceof NotYetDefined)) throw err;
    const list = this.waiting.get(err.index) ?? [];
    list.push(task);
    this.waiting.set(err.index, list);
  }

  private hole(index: number, where: string): unknown {
    if (this.done.has(index)) return this.done.get(index);
    if (this.defining.has(index)) throw new NotYetDefined(index);
    const hole = this.body.holes[index];
    if (!Number.isInteger(index) || !hole || typeof hole !== 'object') {
      throw damaged(`${where} points at missing entry ${index}`);
    }
    switch (hole.k) {
      case 'fn':
        return this.functionHole(index, hole, where);
      case 'import':
        if (!(hole.i in this.imports)) throw damaged(`import ${hole.i} is missing`);
        return this.remember(index, this.imports[hole.i]);
      case 'builtin': {
        this.policy?.checkName?.(hole.path, 'builtin');
        const value = resolveBuiltinPath(String(hole.path));
        if (value === undefined) {
          throw new DeserializationError(
            `builtin '${hole.path}' does not exist in this Node.js; run the ` +
              'worker on the same Node.js version as the producer',
          );
        }
        return this.remember(index, value);
      }
      case 'symbol':
        return this.remember(index, Symbol.for(String(hole.key)));
      case 'bound': {
        const target = this.slot(hole.target, where);
        if (typeof target !== 'function') throw damaged('bound target is not a function');
        const thisArg = this.slot(hole.thisArg, where);
        const args = this.slot(hole.args, where);
        if (!Array.isArray(args)) throw damaged('bound arguments are not an array');
        return this.remember(index, target.bind(thisArg, ...args));
      }
      case 'instance': {
        const cls = this.slot(hole.cls, where);
        if (typeof cls !== 'function') throw damaged('instance class is not a function');
        const obj = Object.create(cls.prototype as object);
        this.remember(index, obj);
        this.settle(() => Object.assign(obj, this.slot(hole.props, where)));
        return obj;
      }
      case 'require': {
        this.policy?.checkName?.('require', 'captured variable');
        const module = String(hole.module);
        const base = isRelativeId(module) ? path.resolve(this.root, module) : module;
        return this.remember(index, createRequire(base));
      }
      default:
        throw damaged(`entry ${index} has unknown kind '${(hole as { k: unknown }).k}'`);
    }
  }

  private remember(index: number, value: unknown): unknown {
    this.done.set(index, value);
    if (typeof value === 'object' && value !== null) this.produced.add(value);
    return value;
  }

  private functionHole(index: number, hole: Hole & { k: 'fn' }, where: string): unknown {
    const factory = this.factory(hole, index);
    const names = hole.caps.map((c) => c[0]);
    const eager = new Set(Array.isArray(hole.eager) ? hole.eager : []);
    const setCapture = (i: number) => {
      const [name, slot] = hole.caps[i]!;
      factory.set[i]!(this.slot(slot, `captured variable '${name}'`));
    };
    let fn: unknown;
    if (eager.size === 0) {
      fn = factory.make();
    } else {
      // A class needs some captures while it is defined (`extends Base`).
      this.defining.add(index);
      try {
        names.forEach((name, i) => eager.has(name) && setCapture(i));
        fn = factory.make();
      } finally {
        this.defining.delete(index);
      }
    }
    this.remember(index, fn);
    const waited = this.waiting.get(index);
    if (waited) {
      this.waiting.delete(index);
      for (const task of waited) this.settle(task);
    }
    for (let i = 0; i < names.length; i++) {
      if (eager.has(names[i]!)) continue;
      try {
        setCapture(i);
      } catch (err) {
        this.retryLater(err, () => setCapture(i));
      }
    }
    if (hole.props) {
      const props = hole.props;
      this.settle(() => Object.assign(fn as object, this.slot(props, where)));
    }
    if (hole.proto) {
      const extras = hole.proto;
      this.settle(() => this.fillPrototype(fn, extras, index, where));
    }
    return fn;
  }

  /** Adds to a rebuilt function's fresh prototype what the text lacks. */
  private fillPrototype(
    fn: unknown,
    extras: NonNullable<(Hole & { k: 'fn' })['proto']>,
    index: number,
    where: string,
  ): void {
    const proto = (fn as { prototype?: unknown }).prototype;
    if (typeof proto !== 'object' || proto === null || !Array.isArray(extras.add)) {
      throw damaged(`function ${index} has no prototype to add to`);
    }
    for (const entry of extras.add) {
      const [key, slot] = Array.isArray(entry) ? entry : [];
      if (typeof key !== 'string' || key === '__proto__') {
        throw damaged(`function ${index} adds an invalid prototype key`);
      }
      Object.defineProperty(proto, key, {
        value: this.slot(slot as Slot, where),
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
    if ('parent' in extras && extras.parent !== undefined) {
      const parent = this.slot(extras.parent, where);
      const parentProto =
        parent === null ? null : (parent as { prototype?: unknown })?.prototype;
      if (parentProto !== null && typeof parentProto !== 'object') {
        throw damaged(`function ${index} inherits from a non-constructor`);
      }
      Object.setPrototypeOf(proto, parentProto as object | null);
    }
    if (extras.noCtor) delete (proto as { constructor?: unknown }).constructor;
  }

  private factory(hole: Hole & { k: 'fn' }, index: number): Factory {
    if (typeof hole.src !== 'string' || !Array.isArray(hole.caps)) {
      throw damaged(`function ${index} has no source text`);
    }
    let text;
    try {
      text = analyzeFunctionText(hole.src);
    } catch (cause) {
      throw damaged(`function ${index} text is not a single function`, cause);
    }
    if (text.form !== hole.form) throw damaged(`function ${index} form does not match`);
    const names = hole.caps.map((c) => c?.[0]);
    for (const name of names) {
      if (typeof name !== 'string' || !isCaptureName(name)) {
        throw damaged(`function ${index} captures an invalid name`);
      }
    }
    const code = factoryCode(hole, names as string[]);
    this.policy?.checkSourceCode?.(code, `function ${index}`);
    let create = compiled.get(code);
    if (!create) {
      try {
        create = new Function('__dq$method', code) as (m: typeof methodOf) => Factory;
      } catch (cause) {
        throw damaged(`function ${index} does not compile`, cause);
      }
      if (compiled.size >= COMPILED_LIMIT) compiled.clear();
      compiled.set(code, create);
    }
    return create(methodOf);
  }
}
