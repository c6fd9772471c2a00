// Every option a serializer takes, with its default, in one place.

import path from 'node:path';
import { SerializerOptionError } from './errors.js';
import { Policy, resolvePolicy, type PolicyOptions } from './policy.js';

export interface SerializerOptions {
  /**
   * Directory that module locations are stored relative to, so a worker
   * running from another checkout path finds the same files.
   * Default: `process.cwd()` when the serializer is created.
   */
  root?: string;
  /**
   * A serialization slower than this many milliseconds emits a
   * `slowSerialization` event. Default: 100.
   */
  slowSerializationMs?: number;
  /**
   * What this serializer agrees to write and load: signing, allowed
   * modules, denied names, strict mode, size and depth limits. See
   * PolicyOptions (policy.ts) for each rule and its default.
   * Default: {} (limits on, no signing unless DUCKQUEUE_SIGNING_KEY is set).
   */
  policy?: PolicyOptions | Policy;
}

export interface ResolvedSerializerOptions {
  root: string;
  slowSerializationMs: number;
  policy: Policy;
}

export const DEFAULT_SLOW_SERIALIZATION_MS = 100;

/** Every key SerializerOptions takes; createSerializer refuses others. */
export const SERIALIZER_OPTION_NAMES: readonly (keyof SerializerOptions)[] = [
  'root',
  'slowSerializationMs',
  'policy',
];

export function resolveOptions(
  options: SerializerOptions = {},
): ResolvedSerializerOptions {
  if (typeof options !== 'object' || options === null) {
    throw new SerializerOptionError(
      `serializer options must be an object, got ${String(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!(SERIALIZER_OPTION_NAMES as readonly string[]).includes(key)) {
      throw new SerializerOptionError(
        `unknown serializer option '${key}'; valid options: ` +
          SERIALIZER_OPTION_NAMES.join(', '),
      );
    }
  }
  const root = options.root ?? process.cwd();
  if (typeof root !== 'string' || root === '') {
    throw new SerializerOptionError(
      `options.root must be a directory path, got ${String(root)}`,
    );
  }
  const slow = options.slowSerializationMs ?? DEFAULT_SLOW_SERIALIZATION_MS;
  if (typeof slow !== 'number' || !(slow >= 0)) {
    throw new SerializerOptionError(
      `options.slowSerializationMs must be a number >= 0 (milliseconds), ` +
        `got ${String(slow)}`,
    );
  }
  const resolvedRoot = path.resolve(root);
  const policy =
    options.policy instanceof Policy
      ? options.policy
      : resolvePolicy(options.policy, resolvedRoot);
  return { root: resolvedRoot, slowSerializationMs: slow, policy };
}
