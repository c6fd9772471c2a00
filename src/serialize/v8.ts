// The 'v8' backend, the analog of Python's pickle: arguments are copied
// with node:v8 (structured clone), the function travels as a reference to
// the module that exports it. Tiny and fast; it cannot carry lambdas,
// closures or REPL functions (use 'source' or 'auto' for those).

import v8 from 'node:v8';
import type { Backend, EncodedCall } from './backend.js';
import type { OpenedEnvelope } from './envelope.js';
import { DeserializationError, NotSerializableError } from './errors.js';
import { locateExport } from './locate.js';
import { importModule } from './module-ref.js';
import type { ResolvedSerializerOptions } from './options.js';
import { taskByName, taskNameOf } from './task-registry.js';
import type { Call, LoadedCall, PayloadMeta } from './types.js';
import { checkData } from './value-check.js';

export const V8_FORMAT = 'v8';

export function createV8Backend(options: ResolvedSerializerOptions): Backend {
  return {
    reads: [V8_FORMAT],
    encode: (call) => encodeV8(call, options),
    decode: (payload) => decodeV8(payload, options),
  };
}

export function encodeV8(
  call: Call,
  options: ResolvedSerializerOptions,
): EncodedCall {
  return {
    format: V8_FORMAT,
    header: referenceHeader(call.fn, options.root),
    body: cloneArgs(call.args),
  };
}

type AnyFunction = (...args: any[]) => unknown;

// One frozen header per function and root, so the envelope writer and the
// policy can reuse their work on it (both remember frozen headers).
const headersByFunction = new WeakMap<AnyFunction, Map<string, PayloadMeta>>();

function referenceHeader(fn: AnyFunction, root: string): PayloadMeta {
  const task = taskNameOf(fn);
  const byRoot = headersByFunction.get(fn);
  const known = byRoot?.get(root);
  // Registering a task or renaming the function changes the header.
  if (known && known.task === task && known.fnName === fn.name) return known;
  const header: PayloadMeta = { fnName: fn.name };
  if (task !== undefined) {
    header.task = task;
  } else {
    const ref = locateExport(fn, root);
    header.module = ref.module;
    header.exportName = ref.exportName;
  }
  Object.freeze(header);
  if (byRoot) byRoot.set(root, header);
  else headersByFunction.set(fn, new Map([[root, header]]));
  return header;
}

/** Structured-clone bytes for the arguments, or a precise refusal. */
export function cloneArgs(args: unknown[]): Uint8Array {
  checkData(args, 'args', 'v8');
  try {
    return v8.serialize(args);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new NotSerializableError(
      'args',
      `node:v8 cannot clone them (${why})`,
      "Pass plain data, or use the 'source' serializer.",
      { cause },
    );
  }
}

export function restoreArgs(body: Uint8Array): unknown[] {
  let args: unknown;
  try {
    args = v8.deserialize(body);
  } catch (cause) {
    throw new DeserializationError(
      'payload arguments are damaged: node:v8 could not read them',
      { cause },
    );
  }
  if (!Array.isArray(args)) {
    throw new DeserializationError('payload arguments are not an array');
  }
  return args;
}

async function decodeV8(
  payload: OpenedEnvelope,
  options: ResolvedSerializerOptions,
): Promise<LoadedCall> {
  const meta = payload.header;
  const args = restoreArgs(payload.body);
  const fn = await resolveFunction(meta, options);
  return { fn, args, format: payload.format, meta };
}

/** The function a by-reference header names: a task or a module export. */
export async function resolveFunction(
  meta: PayloadMeta,
  options: ResolvedSerializerOptions,
): Promise<(...args: any[]) => unknown> {
  if (typeof meta.task === 'string') return taskByName(meta.task);
  const { module, exportName } = meta;
  if (typeof module !== 'string' || typeof exportName !== 'string') {
    throw new DeserializationError(
      'payload header names neither a task nor a module and export',
    );
  }
  const ns = await namespaceOf(meta, module, options.root);
  const value = pickExport(ns, exportName);
  if (typeof value !== 'function') {
    throw new DeserializationError(
      `module '${module}' export '${exportName}' is ${describe(value)}, ` +
        'not a function. Was it renamed or removed since the job was ' +
        'enqueued? Deploy the same code to producer and worker.',
    );
  }
  return value as (...args: any[]) => unknown;
}

// Frozen (shared) headers remember their module's namespace; the export
// itself is read each time, since an ESM binding can be reassigned.
const namespaces = new WeakMap<PayloadMeta, Map<string, ModuleNamespace>>();
type ModuleNamespace = Record<string, unknown>;

async function namespaceOf(
  meta: PayloadMeta,
  module: string,
  root: string,
): Promise<ModuleNamespace> {
  const known = namespaces.get(meta)?.get(root);
  if (known) return known;
  const ns = await importModule(module, root);
  if (Object.isFrozen(meta)) {
    const byRoot = namespaces.get(meta);
    if (byRoot) byRoot.set(root, ns);
    else namespaces.set(meta, new Map([[root, ns]]));
  }
  return ns;
}

/** ESM export, or a CommonJS `module.exports` property seen through ESM. */
function pickExport(ns: Record<string, unknown>, name: string): unknown {
  if (name in ns) return ns[name];
  const cjs = ns.default;
  if (cjs && (typeof cjs === 'object' || typeof cjs === 'function')) {
    return (cjs as Record<string, unknown>)[name];
  }
  return undefined;
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  return `a ${typeof value}`;
}
