// Bytes per backend: each function shape alone (as pickle.dumps(f) would
// store it), whole job calls over real webhook payloads, the data-only
// formats over the same payloads. Sizes over the capability corpus come
// from the capability suite, which serializes every corpus shape anyway.
// Sizes are deterministic: exact metrics the gate compares for equality.

import { isDeepStrictEqual } from 'node:util';
import { DATA_CODECS, encodedBytes } from '../src/bench/data-codecs.js';
import {
  loadOurSerializers,
  loadPeerSerializers,
  payloadBytes,
  roundTrip,
  type FunctionSerializer,
  withBackendStatus,
} from '../src/bench/function-serializers.js';
import { loadPayloads } from '../src/bench/inputs.js';
import { exact } from '../src/bench/metrics.js';
import type { Metric } from '../src/bench/results.js';
import { FUNCTION_SHAPES, summarizeEvent } from '../src/bench/shapes.js';
import {
  defineSuite,
  runSuiteIfMain,
  type SuiteOutput,
} from '../src/bench/suite.js';
import type {
  CallSizeRow,
  DataRow,
  FunctionRow,
  SizeData,
} from '../src/bench/suite-data.js';

/** Payload size of the function with no arguments, or why it failed. */
async function bytesOf(
  serializer: FunctionSerializer,
  fn: (...args: any[]) => unknown,
): Promise<number | { status: 'refused'; error: string; reason: string }> {
  try {
    return payloadBytes(await serializer.serialize({ fn, args: [] }));
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    return {
      status: 'refused',
      error: e.name,
      reason: e.message.split('\n')[0]!.slice(0, 300),
    };
  }
}

async function functionSizes(
  serializers: FunctionSerializer[],
  metrics: Metric[],
): Promise<FunctionRow[]> {
  const rows: FunctionRow[] = [];
  for (const shape of FUNCTION_SHAPES) {
    // The function alone: what the memo's pickle/cloudpickle figures are.
    const expected = await shape.make()(...shape.args);
    for (const serializer of serializers) {
      const fn = shape.make();
      serializer.register?.(`bench.size.${shape.id}`, fn);
      // Bytes of the function alone; the round trip with arguments proves
      // that such a payload really runs.
      const bare = await bytesOf(serializer, fn);
      const check = await roundTrip(serializer, { fn, args: shape.args }, expected);
      const outcome =
        typeof bare === 'number' && check.status === 'works'
          ? { status: 'works' as const, bytes: bare }
          : typeof bare === 'number'
            ? check
            : bare;
      const row: FunctionRow = {
        backend: serializer.id,
        kind: serializer.kind,
        shape: shape.id,
        shapeLabel: shape.label,
        status: outcome.status,
      };
      if (outcome.status === 'works') {
        row.bytes = outcome.bytes;
        metrics.push(
          exact(`size.${serializer.id}.${shape.id}`, outcome.bytes, {
            unit: 'bytes',
            tags: [serializer.id],
            label: `${serializer.id} · ${shape.label}`,
          }),
        );
      } else {
        row.error = outcome.error;
        row.reason = outcome.reason;
      }
      rows.push(row);
    }
  }
  return rows;
}

async function callSizes(
  serializers: FunctionSerializer[],
  payloads: ReturnType<typeof loadPayloads>,
  metrics: Metric[],
): Promise<CallSizeRow[]> {
  const rows: CallSizeRow[] = [];
  for (const serializer of serializers) {
    serializer.register?.('bench.size.summarizeEvent', summarizeEvent);
  }
  for (const payload of payloads) {
    const expected = summarizeEvent(payload.value as Record<string, unknown>);
    for (const serializer of serializers) {
      const call = { fn: summarizeEvent, args: [payload.value] };
      const outcome = await roundTrip(serializer, call, expected);
      const row: CallSizeRow = {
        backend: serializer.id,
        payload: payload.id,
        status: outcome.status,
      };
      if (outcome.status === 'works') {
        row.bytes = outcome.bytes;
        metrics.push(
          exact(`size.call.${serializer.id}.${payload.id}`, outcome.bytes, {
            unit: 'bytes',
            tags: [serializer.id],
          }),
        );
      } else {
        row.error = outcome.error;
        row.reason = outcome.reason;
      }
      rows.push(row);
    }
  }
  return rows;
}

function dataSizes(
  payloads: ReturnType<typeof loadPayloads>,
  metrics: Metric[],
): DataRow[] {
  const rows: DataRow[] = [];
  for (const payload of payloads) {
    for (const codec of DATA_CODECS) {
      const row: DataRow = {
        codec: codec.id,
        codecLabel: codec.label,
        payload: payload.id,
        status: 'works',
      };
      try {
        const encoded = codec.encode(payload.value);
        row.bytes = encodedBytes(encoded);
        if (!isDeepStrictEqual(codec.decode(encoded), payload.value)) {
          row.status = 'wrong';
          row.reason = 'decoded value differs from the original';
        }
      } catch (error) {
        row.status = 'refused';
        row.reason = error instanceof Error ? error.message : String(error);
      }
      metrics.push(
        exact(
          `size.data.${codec.id}.${payload.id}`,
          row.status === 'works' ? row.bytes! : row.status,
          { unit: 'bytes', tags: [codec.id] },
        ),
      );
      rows.push(row);
    }
  }
  return rows;
}

const suite = defineSuite({
  name: 'size',
  title: 'Payload size',
  async run(ctx): Promise<SuiteOutput> {
    ctx.progress('loading serializers and inputs');
    const ours = await loadOurSerializers();
    const peers = await loadPeerSerializers();
    const serializers = [...ours.available, ...peers];
    const payloads = loadPayloads();
    const metrics: Metric[] = [];
    ctx.progress('function shapes', 0, 3);
    const functionRows = await functionSizes(serializers, metrics);
    ctx.progress('job calls over real payloads', 1, 3);
    const callRows = await callSizes(serializers, payloads, metrics);
    ctx.progress('data formats', 2, 3);
    const dataRows = dataSizes(payloads, metrics);
    const data: SizeData = {
      functionRows,
      callRows,
      dataRows,
      payloads: payloads.map(({ id, source, jsonBytes }) => ({
        id,
        source,
        jsonBytes,
      })),
      backends: [...ours.available, ...peers].map(({ id, label, kind }) => ({
        id,
        label,
        kind,
      })),
      codecs: DATA_CODECS.map(({ id, label }) => ({ id, label })),
      shapes: FUNCTION_SHAPES.map(({ id, label }) => ({ id, label })),
    };
    return withBackendStatus(ours, metrics, data);
  },
});

export default suite;
runSuiteIfMain(suite, import.meta.url);
