// What a Worker hands its isolate pool, checked when the Worker is made:
// an isolate rebuilds the queue's serializers from their name and
// options, so both must be plain data.

import { serialize } from 'node:v8';
import { InvalidOptionError } from '../../queue/errors.js';
import type { DuckQueue } from '../../queue/queue.js';
import type { ResolvedWorkerOptions } from '../options.js';
import type { PoolSettings } from './pool.js';

/** Pool settings for the worker, or null when jobs run in-process. */
export function poolSettings(
  queue: DuckQueue,
  options: ResolvedWorkerOptions,
): PoolSettings | null {
  const { isolation } = options;
  if (isolation.mode === 'none') return null;
  const { serialization, serializerOptions } = queue.options;
  if (typeof serialization !== 'string') {
    throw new InvalidOptionError(
      'isolation',
      `'${isolation.mode}' needs the queue's serialization by name: a ` +
        'Serializer instance cannot be sent to an isolate. Open the queue ' +
        "with serialization: 'v8' | 'json' | 'source' | 'auto' and " +
        'serializerOptions instead',
    );
  }
  checkPlainData(serializerOptions, 'serializerOptions');
  return {
    isolation,
    serialization,
    serializerOptions,
    dagNode: async (jobId) => (await queue.store.dag?.jobNode(jobId)) ?? null,
    logger: options.logger,
    workerId: options.workerId,
  };
}

// Class instances (a Policy object, a KeyObject) lose their methods on
// the way to an isolate; functions do not cross at all.
function checkPlainData(value: unknown, where: string, depth = 0): void {
  if (typeof value === 'function') {
    throw new InvalidOptionError(
      where,
      'a function cannot be sent to a job isolate; use plain data',
    );
  }
  if (typeof value !== 'object' || value === null || depth > 8) return;
  if (value instanceof RegExp || value instanceof Uint8Array) return;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) {
    throw new InvalidOptionError(
      where,
      `holds a ${proto?.constructor?.name ?? 'class'} instance, which ` +
        'cannot be sent to a job isolate; pass plain options (e.g. ' +
        'policy options instead of a Policy, key text instead of a KeyObject)',
    );
  }
  for (const [key, inner] of Object.entries(value)) {
    checkPlainData(inner, `${where}.${key}`, depth + 1);
  }
  if (depth === 0) {
    try {
      serialize(value);
    } catch (error) {
      throw new InvalidOptionError(
        where,
        `cannot be sent to a job isolate: ${String(error)}`,
      );
    }
  }
}
