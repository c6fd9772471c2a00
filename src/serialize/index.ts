// Entry point of the serializers: pick a backend by name, register tasks
// and custom backends, and read payload headers without running anything.
//
//   const s = createSerializer('auto');
//   const bytes = s.serialize({ fn, args });
//   const call = await s.deserialize(bytes);
//   await call.fn(...call.args);

import type { Backend, BackendFactory } from './backend.js';
import { decodeEnvelope } from './envelope.js';
import { SerializationError, UnknownSerializerError } from './errors.js';
import { createJsonBackend } from './json.js';
import { resolveOptions, type SerializerOptions } from './options.js';
import { EnvelopeSerializer } from './serializer.js';
import type { PayloadInfo, SerializationName } from './types.js';
import { createV8Backend } from './v8.js';
import { createSourceBackend } from './source/index.js';
import { createAutoBackend } from './auto.js';

export type { Backend, BackendFactory, EncodedCall } from './backend.js';
export type { OpenedEnvelope } from './envelope.js';
export type {
  FallbackEvent,
  FormatCounters,
  SerializerStats,
  SlowSerializationEvent,
} from './metrics.js';
export type { SerializerOptions } from './options.js';
export { EnvelopeSerializer } from './serializer.js';
export {
  registerTask,
  unregisterTask,
  registeredTaskNames,
} from './task-registry.js';
export { registerConfigTask, configTask } from './config-task.js';
export type { TaskConfig } from './config-task.js';

/** Queue-friendly names for the built-in backends. */
const ALIASES: Record<string, string> = { pickle: 'v8', cloudpickle: 'source' };

const factories = new Map<string, BackendFactory>([
  ['v8', createV8Backend],
  ['json', () => createJsonBackend()],
  ['source', createSourceBackend],
  ['auto', createAutoBackend],
]);
const BUILT_IN = new Set(['v8', 'json', 'source', 'auto']);

/**
 * Adds a custom backend under `name`. The factory gets the resolved options
 * and returns a Backend; the envelope, timing and load checks are added
 * around it, so its payloads read with inspectPayload like any other.
 */
export function registerSerializer(name: string, factory: BackendFactory): void {
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/i.test(name)) {
    throw new SerializationError(
      "serializer name must be letters, digits, '.', '_' or '-', got " +
        JSON.stringify(name),
    );
  }
  if (BUILT_IN.has(name) || name in ALIASES) {
    throw new SerializationError(
      `'${name}' is a built-in serializer and cannot be replaced; ` +
        'register yours under another name',
    );
  }
  if (typeof factory !== 'function') {
    throw new SerializationError(
      `registerSerializer('${name}', factory): factory must be a function`,
    );
  }
  factories.set(name, factory);
}

/** Every name createSerializer() accepts, aliases included. */
export function registeredSerializerNames(): string[] {
  return [...factories.keys(), ...Object.keys(ALIASES)].sort();
}

/** A serializer for the named backend ('v8', 'json', 'source', 'auto'...). */
export function createSerializer(
  name: SerializationName = 'auto',
  options: SerializerOptions = {},
): EnvelopeSerializer {
  const canonical = ALIASES[name] ?? name;
  const factory = factories.get(canonical);
  if (!factory) {
    throw new UnknownSerializerError(String(name), registeredSerializerNames());
  }
  const resolved = resolveOptions(options);
  const backend: Backend = factory(resolved);
  checkBackend(canonical, backend);
  return new EnvelopeSerializer(canonical, backend, resolved);
}

function checkBackend(name: string, backend: Backend): void {
  if (
    !backend ||
    typeof backend.encode !== 'function' ||
    typeof backend.decode !== 'function' ||
    !Array.isArray(backend.reads)
  ) {
    throw new SerializationError(
      `serializer factory '${name}' must return { reads, encode, decode }`,
    );
  }
}

/**
 * The header of a payload: format, envelope version, function name and
 * module, signed or not, size. Decodes no body and runs nothing.
 */
export function inspectPayload(bytes: Uint8Array): PayloadInfo {
  const envelope = decodeEnvelope(bytes);
  const meta = envelope.header;
  const info: PayloadInfo = {
    format: envelope.format,
    version: envelope.version,
    fnName: meta.fnName,
    signed: envelope.signed,
    bytes: envelope.size,
    meta,
  };
  if (typeof meta.module === 'string') info.module = meta.module;
  return info;
}
