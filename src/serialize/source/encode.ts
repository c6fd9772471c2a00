// Turns a call into the source backend's body: a table of "holes" (the
// functions, imports, class instances and other values plain data cannot
// hold) and data slots that point into it. Everything else is copied by
// node:v8, which keeps shared references and cycles.
//
// Captured values are a snapshot: they are read when serialize() runs, and
// a worker sees them as they were then, not as they are later.

import { createRequire } from 'node:module';
import { types } from 'node:util';
import { builtinExportOf, builtinModuleOf } from '../builtins.js';
import { NotSerializableError } from '../errors.js';
import { getInspector } from '../inspector.js';
import { filePathOf, moduleIdFor } from '../module-ref.js';
import { isCaptureName, RESERVED_PREFIX } from './factory-code.js';
import { planFunction, readLiveCaptures, type SourcePlan } from './function-plan.js';
import { analyzeFunctionText } from './function-text.js';
import { builtinPathOf } from './globals.js';
import { prototypeExtras } from './prototype.js';

export const SOURCE_BODY_VERSION = 1;

/** A value in the body: plain `v`, data `d` with marks inside, or hole `h`. */
export type Slot = { v: unknown } | { d: unknown } | { h: number };

export type Hole =
  | {
      k: 'fn';
      src: string;
      form: 'expression' | 'method';
      strict: boolean;
      /** Captured variables, in the order the text first uses them. */
      caps: [name: string, value: Slot][];
      /** Captures a class needs while it is being defined. */
      eager: string[];
      props?: Slot;
      /** What the text does not define on the prototype (prototype.ts). */
      proto?: {
        add: [key: string, value: Slot][];
        /** Constructor whose prototype is the parent; null for null. */
        parent?: Slot;
        noCtor?: true;
      };
    }
  | { k: 'import'; i: number }
  | { k: 'builtin'; path: string }
  | { k: 'symbol'; key: string }
  | { k: 'bound'; target: Slot; thisArg: Slot; args: Slot }
  | { k: 'instance'; cls: Slot; props: Slot }
  | { k: 'require'; module: string };

export interface SourceBody {
  v: typeof SOURCE_BODY_VERSION;
  root: Slot;
  args: Slot;
  holes: Hole[];
  /** marks[i] stands for holes[i] wherever it appears inside data. */
  marks: object[];
  /** [module id, export name ('*' for the namespace)] */
  imports: [string, string][];
}

const require = createRequire(import.meta.url);

export class SourceEncoder {
  private readonly holes: Hole[] = [];
  private readonly marks: object[] = [];
  private readonly imports: [string, string][] = [];
  private readonly holeOf = new Map<unknown, number>();
  private readonly importOf = new Map<string, number>();
  private readonly copies = new Map<object, unknown>();

  constructor(private readonly root: string) {}

  encode(fn: Function, args: unknown[]): SourceBody {
    try {
      const rootSlot = { h: this.functionHole(fn, 'fn') };
      const argsSlot = this.slot(args, 'args');
      return {
        v: SOURCE_BODY_VERSION,
        root: rootSlot,
        args: argsSlot,
        holes: this.holes,
        marks: this.marks,
        imports: this.imports,
      };
    } finally {
      getInspector().releaseTemporaries();
    }
  }

  /** The slot for any value; `path` names it in errors. */
  private slot(value: unknown, path: string): Slot {
    if (typeof value === 'function' || typeof value === 'symbol') {
      return { h: this.specialHole(value, path) };
    }
    if (typeof value !== 'object' || value === null) return { v: value };
    if (isSpecialObject(value, path, this.root, true)) {
      return { h: this.specialHole(value, path) };
    }
    if (!containsSpecial(value, path, new Set(), this.root)) return { v: value };
    return { d: this.copy(value, path) };
  }

  /** A deep copy of data with every special value replaced by its mark. */
  private copy(value: unknown, path: string): unknown {
    if (typeof value === 'function' || typeof value === 'symbol') {
      return this.marks[this.specialHole(value, path)];
    }
    if (typeof value !== 'object' || value === null) return value;
    const done = this.copies.get(value);
    if (done !== undefined) return done;
    if (isSpecialObject(value, path, this.root, false)) {
      const mark = this.marks[this.specialHole(value, path)]!;
      this.copies.set(value, mark);
      return mark;
    }
    if (Array.isArray(value)) {
      const out: unknown[] = new Array(value.length);
      this.copies.set(value, out);
      for (let i = 0; i < value.length; i++) {
        // Holes stay holes: `[1, , 3]` must not arrive as [1, undefined, 3].
        if (i in value) out[i] = this.copy(value[i], `${path}[${i}]`);
      }
      return out;
    }
    if (value instanceof Map) {
      const out = new Map();
      this.copies.set(value, out);
      for (const [k, v] of value) {
        out.set(this.copy(k, `${path}.keys()`), this.copy(v, `${path}.get(…)`));
      }
      return out;
    }
    if (value instanceof Set) {
      const out = new Set();
      this.copies.set(value, out);
      for (const v of value) out.add(this.copy(v, `${path}.values()`));
      return out;
    }
    if (value instanceof Error) assertErrorCarried(value, path);
    if (!isPlainObject(value)) return value;
    assertCarriedWhole(value, path);
    const out: Record<string, unknown> = {};
    this.copies.set(value, out);
    for (const key of Object.keys(value)) {
      if (key === '__proto__') {
        // Assigned again on load, it would set the prototype instead.
        throw new NotSerializableError(
          child(path, key),
          "an own '__proto__' key in an object that also holds functions " +
            'or class instances cannot be rebuilt as a key',
          'Rename the key.',
        );
      }
      out[key] = this.copy((value as Record<string, unknown>)[key], child(path, key));
    }
    return out;
  }

  private newHole(value: unknown, hole: Hole): number {
    const index = this.holes.length;
    this.holes.push(hole);
    this.marks.push({});
    this.holeOf.set(value, index);
    return index;
  }

  private importHole(module: string, name: string): number {
    const key = `${module}\0${name}`;
    let i = this.importOf.get(key);
    if (i === undefined) {
      i = this.imports.length;
      this.imports.push([module, name]);
      this.importOf.set(key, i);
    }
    const index = this.holes.length;
    this.holes.push({ k: 'import', i });
    this.marks.push({});
    return index;
  }

  private specialHole(value: unknown, path: string): number {
    const known = this.holeOf.get(value);
    if (known !== undefined) return known;
    if (typeof value === 'function') return this.functionHole(value, path);
    if (typeof value === 'symbol') {
      const builtin = builtinPathOf(value);
      if (builtin) return this.newHole(value, { k: 'builtin', path: builtin });
      const key = Symbol.keyFor(value);
      if (key === undefined) {
        throw new NotSerializableError(
          path,
          'it is a unique Symbol(), which cannot be recreated elsewhere',
          'Use Symbol.for(name) or a string.',
        );
      }
      return this.newHole(value, { k: 'symbol', key });
    }
    const obj = value as object;
    const builtin = builtinPathOf(obj);
    if (builtin) return this.newHole(obj, { k: 'builtin', path: builtin });
    const module = moduleOfExports(obj, this.root);
    if (module) {
      const index = this.importHole(module, 'default');
      this.holeOf.set(obj, index);
      return index;
    }
    return this.instanceHole(obj, path);
  }

  private instanceHole(obj: object, path: string): number {
    const proto = Object.getPrototypeOf(obj) as { constructor: Function };
    const index = this.newHole(obj, {
      k: 'instance',
      cls: { v: null },
      props: { v: null },
    });
    assertCarriedWhole(obj, path);
    const cls = this.slot(proto.constructor, `${path}.constructor`);
    const props: Record<string, unknown> = {};
    for (const key of Object.keys(obj)) {
      props[key] = (obj as Record<string, unknown>)[key];
    }
    this.holes[index] = { k: 'instance', cls, props: this.slot(props, path) };
    return index;
  }

  private functionHole(fn: Function, path: string): number {
    const known = this.holeOf.get(fn);
    if (known !== undefined) return known;
    const plan = planFunction(fn, this.root, path);
    switch (plan.kind) {
      case 'builtin':
        return this.newHole(fn, { k: 'builtin', path: plan.path });
      case 'import': {
        const index = this.importHole(plan.module, plan.name);
        this.holeOf.set(fn, index);
        return index;
      }
      case 'bound': {
        const index = this.newHole(fn, { k: 'builtin', path: '' });
        this.holes[index] = {
          k: 'bound',
          target: this.slot(plan.target, `${path} (bound target)`),
          thisArg: this.slot(plan.thisArg, `${path} (bound this)`),
          args: this.slot(plan.args, `${path} (bound arguments)`),
        };
        return index;
      }
      case 'source':
        return this.sourceHole(fn, plan, path);
    }
  }

  private sourceHole(fn: Function, plan: SourcePlan, path: string): number {
    const hole: Hole & { k: 'fn' } = {
      k: 'fn',
      src: plan.text.source,
      form: plan.text.form,
      strict: plan.strict,
      caps: [],
      eager: plan.text.eager,
    };
    const index = this.newHole(fn, hole);
    const live = readLiveCaptures(plan);
    for (const c of plan.captures) {
      const where = `captured variable '${c.name}'`;
      if (!isCaptureName(c.name)) {
        throw new NotSerializableError(
          where,
          `names starting with '${RESERVED_PREFIX}' are reserved for the ` +
            'code that rebuilds functions when a job is loaded',
          'Rename the variable.',
        );
      }
      let slot: Slot;
      switch (c.from) {
        case 'import':
          slot = { h: this.importHole(c.module, c.export) };
          break;
        case 'require':
          slot = { h: this.holes.push({ k: 'require', module: c.module }) - 1 };
          this.marks.push({});
          break;
        case 'fixed':
          slot = this.slot(c.value, where);
          break;
        case 'superclass':
          slot = this.slot(c.value, `${path} (its superclass)`);
          break;
        case 'scope':
          slot = this.slot(live.get(c.name), where);
          break;
        case 'global':
          slot = this.slot((globalThis as Record<string, unknown>)[c.name], where);
          break;
      }
      hole.caps.push([c.name, slot]);
    }
    const own = Object.keys(fn);
    if (own.length > 0) {
      const props: Record<string, unknown> = {};
      for (const key of own) props[key] = (fn as unknown as Record<string, unknown>)[key];
      hole.props = this.slot(props, `${path} (own properties)`);
    }
    const extras = prototypeExtras(fn, plan.text, path);
    if (extras) {
      hole.proto = {
        add: extras.add.map(([key, value]) => [
          key,
          this.slot(value, `${path}.prototype.${key}`),
        ]),
      };
      if (extras.parent !== undefined) {
        hole.proto.parent = this.slot(extras.parent, `${path}.prototype (its parent)`);
      }
      if (extras.noConstructor) hole.proto.noCtor = true;
    }
    return index;
  }
}

/**
 * Only own, enumerable, string-keyed data properties travel. Refuse what
 * would otherwise arrive changed without a word: symbol keys, getters and
 * setters (frozen to one value), hidden properties, a missing prototype.
 */
function assertCarriedWhole(obj: object, path: string): void {
  const refuse = (where: string, reason: string, advice: string) => {
    throw new NotSerializableError(where, reason, advice);
  };
  if (Object.getPrototypeOf(obj) === null) {
    refuse(path, 'it has no prototype (Object.create(null)), which is not ' +
      'kept', 'Capture a plain object literal instead.');
  }
  const symbol = Object.getOwnPropertySymbols(obj)[0];
  if (symbol !== undefined) {
    refuse(`${path}[${String(symbol)}]`, 'symbol-keyed properties are not ' +
      'carried', 'Use a string key instead.');
  }
  const descriptors = Object.getOwnPropertyDescriptors(obj);
  for (const key of Object.keys(descriptors)) {
    const d = descriptors[key]!;
    if (d.get || d.set) {
      refuse(child(path, key), 'it is a getter or setter, which would be ' +
        'frozen to one value', 'Capture plain data properties instead.');
    }
    if (!d.enumerable) {
      refuse(child(path, key), 'it is a non-enumerable property, which is ' +
        'not carried', 'Make it enumerable or pass it as an argument.');
    }
  }
}

/** node:v8 keeps an Error's message and stack, not its own properties. */
function assertErrorCarried(error: Error, path: string): void {
  const extra = Object.keys(error)[0];
  if (extra !== undefined) {
    throw new NotSerializableError(
      child(path, extra),
      'own properties of an Error are not carried',
      'Capture the values you need (e.g. error.code) as plain data.',
    );
  }
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function child(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key)
    ? `${path}.${key}`
    : `${path}[${JSON.stringify(key)}]`;
}

/** Values node:v8 copies faithfully on its own. */
function isCloneableLeaf(value: object): boolean {
  return (
    types.isDate(value) ||
    types.isRegExp(value) ||
    types.isAnyArrayBuffer(value) ||
    ArrayBuffer.isView(value) ||
    types.isBoxedPrimitive(value) ||
    isNativeError(value)
  );
}

const NATIVE_ERRORS: unknown[] = [
  Error.prototype, EvalError.prototype, RangeError.prototype,
  ReferenceError.prototype, SyntaxError.prototype, TypeError.prototype,
  URIError.prototype,
];

function isNativeError(value: object): boolean {
  return (
    types.isNativeError(value) &&
    NATIVE_ERRORS.includes(Object.getPrototypeOf(value))
  );
}

/**
 * True for objects carried as holes (class instances, builtins, module
 * objects); throws NotSerializableError for objects nothing can carry.
 */
function isSpecialObject(
  value: object,
  path: string,
  root: string,
  topLevel: boolean,
): boolean {
  if (builtinPathOf(value) || builtinModuleOf(value)) return true;
  if (types.isProxy(value)) {
    throw new NotSerializableError(
      path,
      'it is a Proxy, whose behaviour lives in its handler',
      'Capture or pass the target object instead.',
    );
  }
  if (Array.isArray(value) || value instanceof Map || value instanceof Set) {
    if (!isPlainContainer(value)) return refuseInstance(value, path);
    if (!Array.isArray(value)) assertNoOwnProperties(value, path);
    return false;
  }
  if (isPlainObject(value)) {
    // A CommonJS module's exports are a plain object too; they are only
    // looked for where modules usually are: directly in a variable.
    return topLevel && moduleOfExports(value, root) !== undefined;
  }
  if (isCloneableLeaf(value)) {
    if (types.isDate(value) || types.isRegExp(value)) {
      assertNoOwnProperties(value, path);
    }
    return false;
  }
  if (
    types.isWeakMap(value) ||
    types.isWeakSet(value) ||
    value instanceof WeakRef ||
    value instanceof FinalizationRegistry
  ) {
    const name = Object.getPrototypeOf(value).constructor.name;
    throw new NotSerializableError(
      path,
      `it is a ${name}, whose entries cannot be read or copied`,
      'Keep the data in a Map or a plain object, or create it inside the function.',
    );
  }
  if (types.isPromise(value) || types.isGeneratorObject(value)) {
    throw new NotSerializableError(
      path,
      `it is a ${types.isPromise(value) ? 'Promise' : 'generator object'}, ` +
        'a computation in progress that cannot be copied',
      'Await it first and use the result.',
    );
  }
  if (types.isModuleNamespaceObject(value)) {
    throw new NotSerializableError(
      path,
      'it is a module namespace obtained at run time',
      'Import the module statically at the top of its file, or import() ' +
        'it inside the function.',
    );
  }
  return refuseInstance(value, path) ;
}

/**
 * node:v8 copies a Map's entries, a Date's time and a RegExp's pattern,
 * but none of their own properties, and a RegExp's lastIndex starts at 0.
 */
function assertNoOwnProperties(value: object, path: string): void {
  const kind = Object.prototype.toString.call(value).slice(8, -1);
  const key = Object.keys(value)[0];
  if (key !== undefined) {
    throw new NotSerializableError(
      child(path, key),
      `it is an own property of a ${kind}, which is not carried (only the ` +
        `${kind}'s own contents are)`,
      'Keep the extra data next to it in a plain object.',
    );
  }
  if (types.isRegExp(value) && value.lastIndex !== 0) {
    throw new NotSerializableError(
      `${path}.lastIndex`,
      `the RegExp is part-way through a global search (lastIndex ` +
        `${value.lastIndex}), which would restart at 0`,
      'Reset lastIndex to 0, or pass the position as a number.',
    );
  }
}

function isPlainContainer(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Array.prototype || proto === Map.prototype || proto === Set.prototype;
}

/**
 * Class instances travel as their class plus their own properties. Refused:
 * instances of Node.js internals (sockets, streams, timers: they hold OS
 * handles), of native or built-in classes (internal slots cannot be read),
 * and of classes with private fields (#x cannot be read from outside).
 */
function refuseInstance(value: object, path: string): true {
  const HANDLE_ADVICE =
    'Create it inside the function, or pass what it holds as an argument.';
  let proto = Object.getPrototypeOf(value);
  for (; proto; proto = Object.getPrototypeOf(proto)) {
    if (proto === Object.prototype) break;
    const ctor = proto.constructor as Function | undefined;
    if (typeof ctor !== 'function' || ctor.prototype !== proto) {
      throw new NotSerializableError(
        path,
        'it is an object with a hand-made prototype (no class owns it)',
        'Use a class or a plain object.',
      );
    }
    const name = ctor.name || 'an anonymous class';
    const builtinPath = builtinPathOf(ctor);
    if (builtinPath) {
      throw new NotSerializableError(
        path,
        proto === Object.getPrototypeOf(value)
          ? `it is a ${builtinPath} object, whose internal state cannot be copied`
          : `it is an instance of a subclass of ${builtinPath}, whose internal ` +
            'state cannot be copied',
        HANDLE_ADVICE,
      );
    }
    const exported = builtinExportOf(ctor);
    if (exported || isNodeInternal(ctor)) {
      const from = exported ? ` from ${exported.module}` : ' (internal to Node.js)';
      throw new NotSerializableError(
        path,
        `it is a ${name}${from}, which holds a socket, stream, timer or ` +
          'other handle that cannot be copied to another process',
        HANDLE_ADVICE,
      );
    }
    const text = Function.prototype.toString.call(ctor);
    if (text.endsWith('{ [native code] }')) {
      throw new NotSerializableError(
        path,
        `it is an instance of the native class ${name} (an addon or host object)`,
        HANDLE_ADVICE,
      );
    }
    let declaresPrivate = false;
    try {
      declaresPrivate = analyzeFunctionText(text).declaresPrivate;
    } catch {
      // Not parseable: planFunction reports it when the class is encoded.
    }
    if (declaresPrivate) {
      throw new NotSerializableError(
        path,
        `it is an instance of ${name}, which has private fields (#name) ` +
          'that cannot be read or restored from outside the class',
        'Use ordinary properties, or pass the data and build the ' +
          'instance in the function.',
      );
    }
  }
  const symbols = Object.getOwnPropertySymbols(value);
  if (symbols.length > 0) {
    const name = Object.getPrototypeOf(value)?.constructor?.name || 'an object';
    throw new NotSerializableError(
      path,
      `it is a ${name} with properties keyed by symbols ` +
        `(${symbols.map(String).join(', ')}), which usually hold native ` +
        'handles or hidden state that cannot be copied',
      HANDLE_ADVICE,
    );
  }
  return true;
}

const internalCache = new WeakMap<Function, boolean>();

function isNodeInternal(ctor: Function): boolean {
  let internal = internalCache.get(ctor);
  if (internal === undefined) {
    const inspector = getInspector();
    const facts = inspector.functionFacts(inspector.remote(ctor).objectId!);
    const url = facts.location ? inspector.scriptUrl(facts.location.scriptId) : '';
    internal = url.startsWith('node:');
    internalCache.set(ctor, internal);
  }
  return internal;
}

/** Whether data holds anything that needs a hole; refuses the impossible. */
function containsSpecial(
  value: unknown,
  path: string,
  seen: Set<object>,
  root: string,
): boolean {
  if (typeof value === 'function' || typeof value === 'symbol') return true;
  if (typeof value !== 'object' || value === null) return false;
  if (seen.has(value)) return false;
  seen.add(value);
  if (isSpecialObject(value, path, root, false)) return true;
  let found = false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (containsSpecial(value[i], `${path}[${i}]`, seen, root)) found = true;
    }
  } else if (value instanceof Map) {
    for (const [k, v] of value) {
      if (containsSpecial(k, `${path}.keys()`, seen, root)) found = true;
      if (containsSpecial(v, `${path}.get(…)`, seen, root)) found = true;
    }
  } else if (value instanceof Set) {
    for (const v of value) {
      if (containsSpecial(v, `${path}.values()`, seen, root)) found = true;
    }
  } else if (value instanceof Error) {
    assertErrorCarried(value, path);
  } else if (isPlainObject(value)) {
    assertCarriedWhole(value, path);
    for (const key of Object.keys(value)) {
      const v = (value as Record<string, unknown>)[key];
      if (containsSpecial(v, child(path, key), seen, root)) found = true;
    }
  }
  return found;
}

let cjsIndex: Map<unknown, string> | undefined;
let cjsIndexed = -1;

/** Module id when `value` is a CommonJS module's exports or a builtin module. */
function moduleOfExports(value: object, root: string): string | undefined {
  const builtin = builtinModuleOf(value);
  if (builtin) return builtin;
  const cache = require.cache;
  const keys = Object.keys(cache);
  if (keys.length !== cjsIndexed) {
    cjsIndex = new Map();
    for (const key of keys) {
      const exports = cache[key]?.exports;
      if (exports && typeof exports === 'object') cjsIndex.set(exports, key);
    }
    cjsIndexed = keys.length;
  }
  const file = cjsIndex!.get(value);
  if (!file || !filePathOf(file)) return undefined;
  return moduleIdFor(file, root);
}
