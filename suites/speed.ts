// Serialize and deserialize time per backend per function shape (ours and
// the peers Pulumi and serialize-javascript, in the same run), and encode
// and decode time of the data-only formats over real payloads. Every row
// is timed against a reference in the same rounds, so ratios compare.

import v8 from 'node:v8';
import { isDeepStrictEqual } from 'node:util';
import { CALIBRATION_ID, calibrationWorkload } from '../src/bench/calibration.js';
import { DATA_CODECS, encodedBytes } from '../src/bench/data-codecs.js';
import { dependencyFootprints } from '../src/bench/dependencies.js';
import { PROJECT_ROOT } from '../src/bench/paths.js';
import {
  loadOurSerializers,
  loadPeerSerializers,
  roundTrip,
  type FunctionSerializer,
  withBackendStatus,
} from '../src/bench/function-serializers.js';
import { loadPayloads } from '../src/bench/inputs.js';
import { measureAgainst, type Operation } from '../src/bench/measure.js';
import type { Metric } from '../src/bench/results.js';
import { FUNCTION_SHAPES } from '../src/bench/shapes.js';
import type { BenchSettings } from '../src/bench/settings.js';
import {
  defineSuite,
  runSuiteIfMain,
  type SuiteOutput,
} from '../src/bench/suite.js';
import type {
  DataRow,
  FunctionRow,
  SpeedData,
} from '../src/bench/suite-data.js';

const calibration: Operation = {
  id: CALIBRATION_ID,
  label: 'calibration workload',
  tags: [],
  run: calibrationWorkload,
};

interface Planned {
  task: Operation;
  reference: Operation;
  onError: (message: string) => void;
}

/** Serializer × shape rows: round trip first, then the timing plan. */
async function planFunctionRows(
  serializers: FunctionSerializer[],
  rows: FunctionRow[],
  settings: BenchSettings,
): Promise<Planned[]> {
  const v8 = serializers.find((s) => s.id === 'v8');
  // The v8 payload of each shape v8 can carry: the reference of other rows.
  const v8Ops = new Map<string, { ser: Operation; de: Operation }>();
  const plans: Planned[] = [];
  for (const shape of FUNCTION_SHAPES) {
    const expected = await shape.make()(...shape.args);
    for (const serializer of serializers) {
      const fn = shape.make();
      serializer.register?.(`bench.speed.${shape.id}`, fn);
      const call = { fn, args: shape.args };
      const outcome = await roundTrip(serializer, call, expected);
      const row: FunctionRow = {
        backend: serializer.id,
        kind: serializer.kind,
        shape: shape.id,
        shapeLabel: shape.label,
        status: outcome.status,
      };
      rows.push(row);
      if (outcome.status !== 'works') {
        row.error = outcome.error;
        row.reason = outcome.reason;
        continue;
      }
      row.bytes = outcome.bytes;
      if (
        serializer.id === 'pulumi' &&
        shape.id !== 'lambda' &&
        !settings.timeEveryPulumiShape
      ) {
        row.timingError = `not timed in ${settings.mode} mode`;
        continue;
      }
      const payload = outcome.payload;
      const label = `${serializer.id} · ${shape.id}`;
      const ser: Operation = {
        id: `speed.serialize.${serializer.id}.${shape.id}`,
        label: `serialize ${label}`,
        tags: [serializer.id],
        run: () => serializer.serialize(call),
      };
      const de: Operation = {
        id: `speed.deserialize.${serializer.id}.${shape.id}`,
        label: `deserialize ${label}`,
        tags: [serializer.id],
        run: () => serializer.deserialize(payload),
      };
      if (serializer === v8) v8Ops.set(shape.id, { ser, de });
      row.serializeId = ser.id;
      row.deserializeId = de.id;
      const reference = (kind: 'ser' | 'de'): Operation => {
        if (serializer === v8 || !v8) return calibration;
        const own = v8Ops.get(shape.id) ?? v8Ops.get('moduleFunction');
        return own?.[kind] ?? calibration;
      };
      const onError = (message: string): void => {
        row.timingError = message;
      };
      plans.push({ task: ser, reference: reference('ser'), onError });
      plans.push({ task: de, reference: reference('de'), onError });
    }
  }
  return plans;
}

function planDataRows(rows: DataRow[], payloads: ReturnType<typeof loadPayloads>) {
  const plans: Planned[] = [];
  for (const payload of payloads) {
    const v8Encoded = v8.serialize(payload.value);
    const v8Encode: Operation = {
      id: `speed.data.encode.v8.${payload.id}`,
      tags: ['v8'],
      run: () => v8.serialize(payload.value),
    };
    const v8Decode: Operation = {
      id: `speed.data.decode.v8.${payload.id}`,
      tags: ['v8'],
      run: () => v8.deserialize(v8Encoded),
    };
    for (const codec of DATA_CODECS) {
      const row: DataRow = {
        codec: codec.id,
        codecLabel: codec.label,
        payload: payload.id,
        status: 'works',
      };
      rows.push(row);
      let encoded: Uint8Array | string;
      try {
        encoded = codec.encode(payload.value);
      } catch (error) {
        row.status = 'refused';
        row.reason = String(error);
        continue;
      }
      row.bytes = encodedBytes(encoded);
      if (!isDeepStrictEqual(codec.decode(encoded), payload.value)) {
        row.status = 'wrong';
        row.reason = 'decoded value differs from the original';
        continue;
      }
      const label = `${codec.id} · ${payload.id}`;
      const encode: Operation =
        codec.id === 'v8'
          ? { ...v8Encode, label: `encode ${label}` }
          : {
              id: `speed.data.encode.${codec.id}.${payload.id}`,
              label: `encode ${label}`,
              tags: [codec.id],
              run: () => codec.encode(payload.value),
            };
      const decode: Operation =
        codec.id === 'v8'
          ? { ...v8Decode, label: `decode ${label}` }
          : {
              id: `speed.data.decode.${codec.id}.${payload.id}`,
              label: `decode ${label}`,
              tags: [codec.id],
              run: () => codec.decode(encoded),
            };
      row.encodeId = encode.id;
      row.decodeId = decode.id;
      const onError = (message: string): void => {
        row.timingError = message;
      };
      const isV8 = codec.id === 'v8';
      plans.push({ task: encode, reference: isV8 ? calibration : v8Encode, onError });
      plans.push({ task: decode, reference: isV8 ? calibration : v8Decode, onError });
    }
  }
  return plans;
}

const suite = defineSuite({
  name: 'speed',
  title: 'Serialization speed',
  async run(ctx): Promise<SuiteOutput> {
    ctx.progress('loading serializers and inputs');
    const ours = await loadOurSerializers();
    const peers = await loadPeerSerializers();
    const serializers = [...ours.available, ...peers];
    const payloads = loadPayloads();
    const wanted = ctx.settings.speedPayloads;
    const timedPayloads =
      wanted === 'all' ? payloads : payloads.filter((p) => wanted.includes(p.id));
    const functionRows: FunctionRow[] = [];
    const dataRows: DataRow[] = [];
    for (const missing of ours.unavailable) {
      for (const shape of FUNCTION_SHAPES) {
        functionRows.push({
          backend: missing.id,
          kind: 'ours',
          shape: shape.id,
          shapeLabel: shape.label,
          status: 'unavailable',
          reason: missing.reason,
        });
      }
    }
    ctx.progress('round trips');
    const plans = [
      ...(await planFunctionRows(serializers, functionRows, ctx.settings)),
      ...planDataRows(dataRows, timedPayloads),
    ];
    const metrics: Metric[] = [];
    for (const [i, plan] of plans.entries()) {
      ctx.progress(plan.task.label ?? plan.task.id, i, plans.length);
      try {
        const timed = await measureAgainst(
          plan.task,
          plan.reference,
          ctx.settings.timing,
        );
        metrics.push(timed.task);
      } catch (error) {
        plan.onError(error instanceof Error ? error.message : String(error));
      }
    }
    const data: SpeedData = {
      functionRows,
      dataRows,
      payloads: timedPayloads.map(({ id, source, jsonBytes }) => ({
        id,
        source,
        jsonBytes,
      })),
      backends: [
        ...ours.available,
        ...ours.unavailable.map((u) => ({ ...u, label: u.id, kind: 'ours' as const })),
        ...peers,
      ].map(({ id, label, kind }) => ({ id, label, kind })),
      codecs: DATA_CODECS.map(({ id, label }) => ({ id, label })),
      shapes: FUNCTION_SHAPES.map(({ id, label }) => ({ id, label })),
      calibrationId: CALIBRATION_ID,
      dependencies: dependencyFootprints(PROJECT_ROOT),
    };
    return withBackendStatus(ours, metrics, data);
  },
});

export default suite;
runSuiteIfMain(suite, import.meta.url);
