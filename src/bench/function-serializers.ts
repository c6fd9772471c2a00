// Every function serializer the suites compare, behind one small interface:
// our backends (src/serialize) and two peers, Pulumi's
// runtime.serializeFunction and serialize-javascript. Peers' failures are
// results, recorded like our refusals.

import { createRequire } from 'node:module';
import v8 from 'node:v8';
import { isDeepStrictEqual } from 'node:util';
import type { Call } from '../serialize/types.js';

export interface LoadedFunctionCall {
  fn: (...args: any[]) => unknown;
  args: unknown[];
}

export interface FunctionSerializer {
  /** Stable id used in metric ids and as the slowdown tag. */
  id: string;
  label: string;
  kind: 'ours' | 'peer';
  serialize(call: Call): Uint8Array | string | Promise<Uint8Array | string>;
  deserialize(
    payload: Uint8Array | string,
  ): LoadedFunctionCall | Promise<LoadedFunctionCall>;
  /** Makes a function known by name, for registry-based backends. */
  register?(name: string, fn: Call['fn']): void;
}

export class SerializersUnavailableError extends Error {
  constructor(cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      'our serializers could not be loaded from src/serialize/index.ts ' +
        `(createSerializer, registerTask): ${why}. The serializer rows need ` +
        'them; run the suite again once src/serialize builds.',
    );
    this.name = 'SerializersUnavailableError';
  }
}

export const OUR_BACKENDS = ['v8', 'json', 'source', 'auto'] as const;

export interface OurSerializers {
  available: FunctionSerializer[];
  /** Backends createSerializer refused, with its message. */
  unavailable: Array<{ id: string; reason: string }>;
}

/** Our four backends, through the public createSerializer. */
export async function loadOurSerializers(): Promise<OurSerializers> {
  let api: typeof import('../serialize/index.js');
  try {
    api = await import('../serialize/index.js');
  } catch (error) {
    throw new SerializersUnavailableError(error);
  }
  const found: OurSerializers = { available: [], unavailable: [] };
  for (const name of OUR_BACKENDS) {
    let serializer: ReturnType<typeof api.createSerializer>;
    try {
      serializer = api.createSerializer(name);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      found.unavailable.push({ id: name, reason });
      continue;
    }
    const adapter: FunctionSerializer = {
      id: name,
      label: name,
      kind: 'ours',
      serialize: (call) => serializer.serialize(call),
      deserialize: (payload) => serializer.deserialize(payload as Uint8Array),
    };
    if (name === 'json') {
      adapter.register = (taskName, fn) => api.registerTask(taskName, fn);
    }
    found.available.push(adapter);
  }
  return found;
}

const require = createRequire(import.meta.url);

/**
 * Pulumi's closure serializer, used outside a Pulumi program. The payload
 * is a length-prefixed JSON header (Pulumi's module text and export name)
 * followed by the arguments through node:v8, so only the function side
 * is Pulumi's.
 */
async function pulumiSerializer(): Promise<FunctionSerializer> {
  const pulumi = await import('@pulumi/pulumi');
  return {
    id: 'pulumi',
    label: 'Pulumi serializeFunction',
    kind: 'peer',
    async serialize(call) {
      const fn = await pulumi.runtime.serializeFunction(call.fn);
      const header = Buffer.from(
        JSON.stringify({ text: fn.text, exportName: fn.exportName }),
      );
      const length = Buffer.alloc(4);
      length.writeUInt32BE(header.length);
      return Buffer.concat([length, header, v8.serialize(call.args)]);
    },
    deserialize(payload) {
      const bytes = Buffer.from(payload as Uint8Array);
      const headerLength = bytes.readUInt32BE(0);
      const { text, exportName } = JSON.parse(
        bytes.subarray(4, 4 + headerLength).toString(),
      );
      const args = v8.deserialize(bytes.subarray(4 + headerLength));
      const module = { exports: {} as Record<string, unknown> };
      new Function('exports', 'require', 'module', text)(
        module.exports,
        require,
        module,
      );
      return { fn: module.exports[exportName] as Call['fn'], args };
    },
  };
}

/** serialize-javascript: function text via toString, no closures. */
async function serializeJavascriptSerializer(): Promise<FunctionSerializer> {
  const serialize = require('serialize-javascript') as (
    value: unknown,
  ) => string;
  return {
    id: 'serialize-javascript',
    label: 'serialize-javascript',
    kind: 'peer',
    serialize: (call) => serialize({ fn: call.fn, args: call.args }),
    deserialize(payload) {
      // Indirect eval: the documented way to read its output back.
      return (0, eval)(`(${String(payload)})`) as LoadedFunctionCall;
    },
  };
}

export const PEER_IDS = ['pulumi', 'serialize-javascript'] as const;

export async function loadPeerSerializers(): Promise<FunctionSerializer[]> {
  return [await pulumiSerializer(), await serializeJavascriptSerializer()];
}

export function payloadBytes(payload: Uint8Array | string): number {
  return typeof payload === 'string'
    ? Buffer.byteLength(payload)
    : payload.byteLength;
}

export type RoundTrip =
  | { status: 'works'; bytes: number; payload: Uint8Array | string }
  | { status: 'refused' | 'wrong'; error: string; reason: string };

function describe(error: unknown): { error: string; reason: string } {
  if (error instanceof Error) {
    return {
      error: error.name,
      reason: error.message.split('\n').slice(0, 3).join(' ').slice(0, 300),
    };
  }
  return { error: 'Error', reason: String(error).slice(0, 300) };
}

/**
 * Serializes a call, loads it back and runs it. 'refused' when serializing
 * throws; 'wrong' when loading or calling throws or the result differs
 * from what a fresh function of the same shape returns.
 */
export async function roundTrip(
  serializer: FunctionSerializer,
  call: Call,
  expected: unknown,
): Promise<RoundTrip> {
  let payload: Uint8Array | string;
  try {
    payload = await serializer.serialize(call);
  } catch (error) {
    return { status: 'refused', ...describe(error) };
  }
  try {
    const loaded = await serializer.deserialize(payload);
    const actual = await loaded.fn(...loaded.args);
    if (!isDeepStrictEqual(actual, expected)) {
      return {
        status: 'wrong',
        error: 'WrongResult',
        reason:
          `returned ${JSON.stringify(actual)?.slice(0, 80)}, expected ` +
          `${JSON.stringify(expected)?.slice(0, 80)}`,
      };
    }
  } catch (error) {
    return { status: 'wrong', ...describe(error) };
  }
  return { status: 'works', bytes: payloadBytes(payload), payload };
}

/**
 * A suite's outcome: its metrics and data, marked failed with the missing
 * backends named when createSerializer refused any of ours.
 */
export function withBackendStatus<M, D>(
  ours: OurSerializers,
  metrics: M,
  data: D,
): { status?: 'failed'; reason?: string; metrics: M; data: D } {
  if (ours.unavailable.length === 0) return { metrics, data };
  return {
    status: 'failed',
    reason:
      'serializer backends missing: ' +
      ours.unavailable.map((u) => `${u.id} (${u.reason})`).join('; '),
    metrics,
    data,
  };
}
