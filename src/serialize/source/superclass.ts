// How a class's `extends` clause travels. The expression after `extends`
// runs once, when the class is defined, in the code around the class. V8
// keeps a variable in a closure only when some function reads it later,
// so a module-level `Base` that nothing but `class Sub extends Base` reads
// is not among Sub's [[Scopes]] and cannot be captured by name. What does
// survive is the result: a class's own prototype is its superclass.
//
// So unless the expression is a lone variable that still holds that very
// superclass (it then travels like any other capture: imports by
// reference, builtins by name), the expression is replaced in the text by
// a fresh name bound to the superclass itself, which travels as a value:
// `class Sub extends mixin(Base)` becomes `class Sub extends $superclass`.

import type { Capture } from './function-plan.js';
import { analyzeFunctionText, type FunctionText } from './function-text.js';

export interface CarriedClass {
  text: FunctionText;
  captures: Capture[];
}

/**
 * How `cls` carries its superclass. `current` holds what the variable of
 * a lone-variable `extends` refers to now, when it could be read.
 */
export function carrySuperclass(
  cls: Function,
  text: FunctionText,
  captures: Capture[],
  current: { value: unknown } | undefined,
): CarriedClass {
  const heritage = text.superclass;
  if (!heritage || heritage.names.length === 0) return { text, captures };
  const superclass = superclassOf(cls);
  if (heritage.identifier && current?.value === superclass) {
    const capture = captures.find((c) => c.name === heritage.identifier);
    // A binding that may be reassigned could name another class by the
    // time the job is sent; the class keeps the one it was defined with.
    const stays =
      !capture ||
      capture.from === 'fixed' ||
      capture.from === 'import' ||
      capture.from === 'global';
    if (stays) return { text, captures };
  }
  const alias = unusedName(text.source);
  const source =
    text.source.slice(0, heritage.start) + alias + text.source.slice(heritage.end);
  const dropped = new Set(heritage.only);
  return {
    text: analyzeFunctionText(source),
    captures: [
      { name: alias, from: 'superclass', value: superclass },
      ...captures.filter((c) => !dropped.has(c.name)),
    ],
  };
}

/** What `extends` evaluated to: a class, or null for `extends null`. */
function superclassOf(cls: Function): unknown {
  const parent: unknown = Object.getPrototypeOf(cls);
  const prototype: unknown = cls.prototype;
  const extendsNull =
    parent === Function.prototype &&
    typeof prototype === 'object' &&
    prototype !== null &&
    Object.getPrototypeOf(prototype) === null;
  return extendsNull ? null : parent;
}

/** A name that appears nowhere in `source`, so it can shadow nothing. */
function unusedName(source: string): string {
  let name = '$superclass';
  for (let i = 2; source.includes(name); i++) name = `$superclass${i}`;
  return name;
}
