// The 'source' backend, the analog of Python's cloudpickle: a function
// travels as its source text plus the values it captures, so lambdas,
// closures, nested and REPL functions work. Imports from packages and
// node: builtins travel as (module, export) and are imported again.
//
// Captures are a snapshot taken when serialize() runs. Loading a source
// payload runs code: see the caveat in load.ts.
//
// Caveats:
// - Each function gets its own copy of what it captures. Two closures
//   sent together that share one `let` (an increment/read pair) each get
//   their own copy of it after loading; objects they share stay shared.
// - Class instances are rebuilt from their class's prototype and their own
//   enumerable properties; the constructor does not run again. Instances
//   with #private fields or symbol-keyed properties are refused.
// - A class keeps the superclass it was defined with. `extends Base`
//   travels as the capture `Base` while that still holds the superclass;
//   any other `extends` expression (`mixin(Base)`, `ns.Base`) is not run
//   again: the rebuilt class reads `extends $superclass`, bound to the
//   superclass value (see superclass.ts).
// - Properties added to a prototype after the definition (ES5
//   `Ctor.prototype.m = ...`, a method patched onto a class) travel, and
//   so does ES5 inheritance through Object.create(Parent.prototype). A
//   method the class body defines and that was later replaced arrives as
//   the body defines it. Getters, hidden properties and parents swapped in
//   with Object.setPrototypeOf are refused.
// - A capture still in its temporal dead zone (read before its `let`,
//   `const` or `class` has run) is refused; try again once it has run.
// - A computed member name (`[KEY]() {}`) read from a variable nothing
//   else reads is refused: V8 does not keep that variable.
// - Arrow functions that use `this`/`arguments` of the code around them,
//   and methods that use `super`, are refused: that context is not a value.
// - A new closure object costs several inspector round trips the first
//   time it is serialized; the same function object again costs none
//   unless a captured binding is reassigned somewhere (then its value is
//   re-read each time).

import v8 from 'node:v8';
import type { Backend, EncodedCall } from '../backend.js';
import type { OpenedEnvelope } from '../envelope.js';
import { DeserializationError, SerializationError } from '../errors.js';
import type { ResolvedSerializerOptions } from '../options.js';
import { sharedHeader } from '../shared-headers.js';
import type { Call, LoadedCall } from '../types.js';
import { SourceEncoder, type SourceBody } from './encode.js';
import { factoryCode } from './factory-code.js';
import { loadSourceBody, readSourceBody } from './load.js';

export const SOURCE_FORMAT = 'source';

export function createSourceBackend(options: ResolvedSerializerOptions): Backend {
  return {
    reads: [SOURCE_FORMAT],
    encode: (call) => encodeSource(call, options),
    decode: (payload) => decodeSource(payload, options),
  };
}

export function encodeSource(
  call: Call,
  options: ResolvedSerializerOptions,
): EncodedCall {
  const body = new SourceEncoder(options.root).encode(call.fn, call.args);
  const bytes = v8.serialize(body);
  // Whatever a worker would refuse on load is refused now, at enqueue.
  options.policy.checkOutgoingSource(body, compiledCode(body), bytes);
  return {
    format: SOURCE_FORMAT,
    header: sharedHeader({ fnName: call.fn.name }),
    body: bytes,
  };
}

/** [where, code] for every function a loader will compile. */
function* compiledCode(body: SourceBody): Iterable<[string, string]> {
  for (let index = 0; index < body.holes.length; index++) {
    const hole = body.holes[index]!;
    if (hole.k !== 'fn') continue;
    const names = hole.caps.map((c) => c[0]);
    yield [`function ${index}`, factoryCode(hole, names)];
  }
}

export async function decodeSource(
  payload: OpenedEnvelope,
  options: ResolvedSerializerOptions,
): Promise<LoadedCall> {
  const body = readSourceBody(payload.body);
  options.policy.checkSourceBody(body);
  let loaded;
  try {
    loaded = await loadSourceBody(body, options);
  } catch (cause) {
    // A body that points at itself, or code that throws while it is
    // rebuilt, must still end as a typed error the queue can store.
    if (cause instanceof SerializationError) throw cause;
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new DeserializationError(
      `source payload could not be rebuilt: ${why}`,
      { cause },
    );
  }
  const { fn, args } = loaded;
  return { fn, args, format: payload.format, meta: payload.header };
}
