// The 'json' backend: never evaluates code. The function travels only as
// the name it was registered under (registerTask), the arguments as JSON
// through superjson, which keeps Date, Map, Set, BigInt, RegExp, undefined,
// shared references and cycles.
//
// When jobs need flexibility without shipping code, register one generic
// processor that dispatches on a configuration argument; see
// registerConfigTask in config-task.ts.

import SuperJSON from 'superjson';
import type { Backend, EncodedCall } from './backend.js';
import type { OpenedEnvelope } from './envelope.js';
import { DeserializationError, NotSerializableError } from './errors.js';
import { taskByName, taskNameOf } from './task-registry.js';
import { sharedHeader } from './shared-headers.js';
import type { Call, LoadedCall } from './types.js';
import { checkData } from './value-check.js';

export const JSON_FORMAT = 'json';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function createJsonBackend(): Backend {
  return { reads: [JSON_FORMAT], encode: encodeJson, decode: decodeJson };
}

function encodeJson(call: Call): EncodedCall {
  const name = taskNameOf(call.fn);
  if (name === undefined) {
    const label = call.fn.name ? `function '${call.fn.name}'` : 'this function';
    throw new NotSerializableError(
      'fn',
      `${label} is not registered as a task, and the json format never ` +
        'ships code',
      `Call registerTask('${call.fn.name || 'name'}', fn) in both the ` +
        "producer and the worker, or use the 'v8' or 'source' serializer.",
    );
  }
  checkData(call.args, 'args', 'json');
  const text = JSON.stringify(SuperJSON.serialize(call.args));
  return {
    format: JSON_FORMAT,
    header: sharedHeader({ fnName: call.fn.name, task: name }),
    body: encoder.encode(text),
  };
}

async function decodeJson(payload: OpenedEnvelope): Promise<LoadedCall> {
  const meta = payload.header;
  if (typeof meta.task !== 'string') {
    throw new DeserializationError('json payload header has no task name');
  }
  let args: unknown;
  try {
    const parsed = JSON.parse(decoder.decode(payload.body));
    args = SuperJSON.deserialize(parsed);
  } catch (cause) {
    throw new DeserializationError(
      'json payload body is damaged: it is not superjson-encoded JSON',
      { cause },
    );
  }
  if (!Array.isArray(args)) {
    throw new DeserializationError('json payload arguments are not an array');
  }
  const fn = taskByName(meta.task);
  return { fn, args, format: JSON_FORMAT, meta };
}
