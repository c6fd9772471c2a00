// Scratch timing for the serializers (not a test, not the benchmark suite):
// where do we stand against the targets? Measures in interleaved rounds so
// a busy machine slows both sides of a ratio alike.
//
//   node --import tsx scripts/serialize-timing.ts

import { encodeEnvelope } from '../src/serialize/envelope.js';
import { createSerializer } from '../src/serialize/index.js';
import { resolveOptions } from '../src/serialize/options.js';
import { encodeSource } from '../src/serialize/source/index.js';
import { encodeV8 } from '../src/serialize/v8.js';
import {
  closure3,
  closureFree,
  doubleByReference,
} from '../test/fixtures/timing/functions.js';

const ROUNDS = 31;
const PER_ROUND = 2000;

function timeRound(task: () => unknown, n: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) task();
  return Number(process.hrtime.bigint() - start) / n / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function compare(label: string, tasks: Record<string, () => unknown>, n = PER_ROUND) {
  const names = Object.keys(tasks);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  for (const name of names) timeRound(tasks[name]!, n); // warm up
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of names) samples[name]!.push(timeRound(tasks[name]!, n));
  }
  console.log(`\n${label}`);
  const first = samples[names[0]!]!;
  for (const name of names) {
    const ratios = samples[name]!.map((t, i) => t / first[i]!);
    console.log(
      `  ${name.padEnd(34)} ${median(samples[name]!).toFixed(2).padStart(8)} µs median` +
        `   ×${median(ratios).toFixed(2)} of ${names[0]}`,
    );
  }
}

const v8 = createSerializer('v8');
const source = createSerializer('source');
const auto = createSerializer('auto');

compare('serialize: closure-free arrow by source vs exported function by v8', {
  'v8 doubleByReference': () => v8.serialize({ fn: doubleByReference, args: [4] }),
  'source closureFree': () => source.serialize({ fn: closureFree, args: [4] }),
  'auto closureFree (v8 path)': () => auto.serialize({ fn: closureFree, args: [4] }),
});

const localLambda = (x: number) => x * 2;
compare('serialize: closure with 3 captured values and one import', {
  'v8 doubleByReference': () => v8.serialize({ fn: doubleByReference, args: ['x'] }),
  'source closure3': () => source.serialize({ fn: closure3, args: ['x'] }),
  'auto lambda (fallback to source)': () => auto.serialize({ fn: localLambda, args: [1] }),
});

// The same work without the payload policy's checks on write, to separate
// the serializers' own cost from the policy's.
const resolved = resolveOptions();
compare('backend + envelope only (no policy checks)', {
  'v8 doubleByReference': () =>
    encodeEnvelope(encodeV8({ fn: doubleByReference, args: [4] }, resolved)),
  'source closureFree': () =>
    encodeEnvelope(encodeSource({ fn: closureFree, args: [4] }, resolved)),
  'source closure3': () =>
    encodeEnvelope(encodeSource({ fn: closure3, args: ['x'] }, resolved)),
});

let level = 0;
const live = () => level;
compare(
  'serialize: slow paths (inspector round trips every time)',
  {
    'v8 doubleByReference': () => v8.serialize({ fn: doubleByReference, args: [1] }),
    'source new closure each call': () => {
      const k = level++;
      return source.serialize({ fn: (x: number) => x + k, args: [1] });
    },
    'source reassigned capture (let)': () => {
      level++;
      return source.serialize({ fn: live, args: [] });
    },
  },
  200,
);

const bytesV8 = v8.serialize({ fn: doubleByReference, args: [4] });
const bytesFree = source.serialize({ fn: closureFree, args: [4] });
const bytes3 = source.serialize({ fn: closure3, args: ['x'] });
console.log('\nbytes');
console.log(`  v8 doubleByReference ${bytesV8.length}`);
console.log(`  source closureFree   ${bytesFree.length}  ×${(bytesFree.length / bytesV8.length).toFixed(2)}`);
console.log(`  source closure3      ${bytes3.length}`);

async function loadTimes() {
  const n = 500;
  const samples: Record<string, number[]> = { v8: [], source: [] };
  for (let r = 0; r < 11; r++) {
    for (const [name, s, b] of [
      ['v8', v8, bytesV8],
      ['source', source, bytes3],
    ] as const) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < n; i++) await s.deserialize(b);
      samples[name]!.push(Number(process.hrtime.bigint() - start) / n / 1000);
    }
  }
  console.log('\ndeserialize');
  console.log(`  v8 doubleByReference ${median(samples.v8!).toFixed(2)} µs median`);
  console.log(`  source closure3      ${median(samples.source!).toFixed(2)} µs median`);
}

await loadTimes();
