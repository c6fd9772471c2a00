// What a function's text does not say about it. ES5 code adds methods to
// a constructor after defining it (`Point.prototype.norm = ...`), inherits
// through `Child.prototype = Object.create(Parent.prototype)`, and classes
// get methods patched in later too. Those travel next to the text; what
// cannot travel (getters, hidden properties, a parent swapped in with
// Object.setPrototypeOf) is refused here, naming the property.

import { NotSerializableError } from '../errors.js';
import type { FunctionText } from './function-text.js';

export interface PrototypeExtras {
  /** Enumerable data properties the text does not define, in order. */
  add: [key: string, value: unknown][];
  /**
   * The constructor whose prototype is the parent of this one (ES5
   * inheritance), null for a parent of null, undefined for Object.
   */
  parent: Function | null | undefined;
  /** The prototype has no own `constructor` (it was replaced). */
  noConstructor: boolean;
}

/** Own properties every function has; never carried, never refused. */
const FUNCTION_OWN = new Set(['length', 'name', 'prototype', 'arguments', 'caller']);

const INTRINSIC_PARENTS = new Set<unknown>([
  Function.prototype,
  Object.getPrototypeOf(async function () {}),
  Object.getPrototypeOf(function* () {}),
  Object.getPrototypeOf(async function* () {}),
]);

/**
 * Refuses what the rebuilt function would lack; returns the prototype
 * properties to carry, or undefined when the text says it all.
 */
export function prototypeExtras(
  fn: Function,
  text: FunctionText,
  path: string,
): PrototypeExtras | undefined {
  checkOwnProperties(fn, text, path);
  const parent: unknown = Object.getPrototypeOf(fn);
  if (text.kind === 'class') {
    if (!text.superclass && parent !== Function.prototype) {
      throw swappedParent(path);
    }
    return classExtras(fn, text, path);
  }
  if (!INTRINSIC_PARENTS.has(parent)) throw swappedParent(path);
  // Generator functions have a prototype of their own kind: left alone.
  if (text.kind !== 'function' || parent !== Function.prototype) return undefined;
  return functionExtras(fn, path);
}

function swappedParent(path: string): NotSerializableError {
  return new NotSerializableError(
    path,
    'its parent was changed with Object.setPrototypeOf after it was ' +
      'defined, which its text does not say',
    "Use 'extends' in the class (or function) definition instead.",
  );
}

/** Own properties of the function the encoder's copy would miss. */
function checkOwnProperties(fn: Function, text: FunctionText, path: string): void {
  const members = text.members;
  for (const key of Object.getOwnPropertyNames(fn)) {
    if (FUNCTION_OWN.has(key)) continue;
    const declared = members?.static.includes(key) || members?.computed;
    const d = Object.getOwnPropertyDescriptor(fn, key)!;
    if (declared && !d.enumerable) continue;
    if (d.get || d.set) {
      throw new NotSerializableError(
        `${path}.${key}`,
        'it is a getter or setter added to the function, which would be ' +
          'frozen to one value',
        'Define it in the class body, or use a plain property.',
      );
    }
    if (!d.enumerable) {
      throw new NotSerializableError(
        `${path}.${key}`,
        'it is a non-enumerable property added to the function, which is ' +
          'not carried',
        'Define it in the class body (static), or assign it normally.',
      );
    }
  }
  const symbol = Object.getOwnPropertySymbols(fn)[0];
  if (symbol !== undefined && !members?.computed) {
    throw new NotSerializableError(
      `${path}[${String(symbol)}]`,
      'symbol-keyed properties of a function are not carried',
      'Use a string key instead.',
    );
  }
}

function classExtras(
  cls: Function,
  text: FunctionText,
  path: string,
): PrototypeExtras | undefined {
  const proto = cls.prototype as object;
  const superclass: unknown = Object.getPrototypeOf(cls);
  const extendsNull = Object.getPrototypeOf(proto) === null;
  const expected = !text.superclass
    ? Object.prototype
    : extendsNull && superclass === Function.prototype
      ? null
      : (superclass as { prototype?: unknown }).prototype;
  if (Object.getPrototypeOf(proto) !== expected) {
    throw swappedParent(`${path}.prototype`);
  }
  const members = text.members!;
  const add = addedProperties(proto, path, members.computed, (key, d) => {
    if (key === 'constructor') return d.value === cls;
    return members.instance.includes(key) || (members.computed && !d.enumerable);
  });
  return add.length > 0 ? { add, parent: undefined, noConstructor: false } : undefined;
}

function functionExtras(fn: Function, path: string): PrototypeExtras | undefined {
  const proto = fn.prototype as unknown;
  if (typeof proto !== 'object' || proto === null) return undefined;
  const where = `${path}.prototype`;
  const parentProto: unknown = Object.getPrototypeOf(proto);
  let parent: Function | null | undefined;
  if (parentProto === null) parent = null;
  else if (parentProto !== Object.prototype) {
    const ctor = (parentProto as { constructor?: unknown }).constructor;
    if (typeof ctor !== 'function' || ctor.prototype !== parentProto) {
      throw new NotSerializableError(
        where,
        'its parent is an object no constructor owns',
        'Inherit with Object.create(Parent.prototype) or use a class.',
      );
    }
    parent = ctor;
  }
  const own = Object.getOwnPropertyDescriptor(proto, 'constructor');
  if (own && own.value !== fn) {
    throw new NotSerializableError(
      `${where}.constructor`,
      'it names another function, which is not carried',
      `Set ${where}.constructor to the function itself, or leave it out.`,
    );
  }
  const add = addedProperties(proto, path, false, (key) => key === 'constructor');
  if (add.length === 0 && parent === undefined && own) return undefined;
  return { add, parent, noConstructor: !own };
}

/** Enumerable data properties of `proto` that `known` does not cover. */
function addedProperties(
  proto: object,
  path: string,
  symbolsDeclared: boolean,
  known: (key: string, d: PropertyDescriptor) => boolean,
): [string, unknown][] {
  const add: [string, unknown][] = [];
  for (const key of Object.getOwnPropertyNames(proto)) {
    const d = Object.getOwnPropertyDescriptor(proto, key)!;
    if (known(key, d)) continue;
    const where = `${path}.prototype.${key}`;
    if (d.get || d.set) {
      throw new NotSerializableError(
        where,
        'it is a getter or setter added to the prototype after the ' +
          'definition, which is not carried',
        'Define it in the class body instead.',
      );
    }
    if (!d.enumerable || key === '__proto__') {
      throw new NotSerializableError(
        where,
        key === '__proto__'
          ? "an own '__proto__' key cannot be set again without changing " +
              'the prototype'
          : 'it is a non-enumerable property added to the prototype after ' +
              'the definition, which is not carried',
        'Define it in the class body, or assign it normally.',
      );
    }
    add.push([key, d.value]);
  }
  const symbol = Object.getOwnPropertySymbols(proto)[0];
  if (symbol !== undefined && !symbolsDeclared) {
    throw new NotSerializableError(
      `${path}.prototype[${String(symbol)}]`,
      'symbol-keyed prototype properties added after the definition are ' +
        'not carried',
      'Define it in the class body instead.',
    );
  }
  return add;
}
