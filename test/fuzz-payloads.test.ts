// Property tests: random bytes and randomly damaged valid payloads, fed to
// the envelope parser and to every serializer (with and without a signing
// key), produce only typed errors. A TypeError, RangeError or SyntaxError
// escaping would mean an input path nobody checked; a canary firing or a
// prototype changing would mean a damaged payload ran code.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEnvelope } from '../src/serialize/envelope.js';
import { DeserializationError, SerializationError } from '../src/serialize/errors.js';
import { createSerializer, registerTask } from '../src/serialize/index.js';
import { jsonDepth, v8Depth } from '../src/serialize/depth-scan.js';
import { scanCode } from '../src/serialize/policy-code-scan.js';
import { DEFAULT_DENY_NAMES } from '../src/serialize/policy.js';
import { DenyList } from '../src/serialize/policy-names.js';
import { Keyring } from '../src/serialize/signing.js';
import type { Serializer } from '../src/serialize/types.js';
import {
  canaryFired,
  createHostileContext,
  prototypeSnapshot,
  type HostileContext,
} from './fixtures/hostile/context.js';
import { byReference, byTaskName } from './fixtures/hostile/payloads.js';
import { fuzzSeeds } from './fixtures/hostile/fuzz-seeds.js';

let ctx: HostileContext;
let prototypesBefore: string;
let seeds: Uint8Array[];
let loaders: Array<{ label: string; serializer: Serializer }>;

beforeAll(async () => {
  ctx = createHostileContext();
  prototypesBefore = prototypeSnapshot();
  registerTask('noop', (...args: unknown[]) => args.length);
  const plain = [
    byReference(ctx.honestModule, 'add', [1, 2]),
    byReference(ctx.honestModule, 'echo', [
      { when: new Date(0), tags: new Set(['a']), n: 10n, deep: [[{ x: [1] }]] },
    ]),
    byTaskName('noop', [{ a: 1, list: [1, 2, 3], map: new Map([['k', 'v']]) }]),
  ];
  const signed = [
    byReference(ctx.honestModule, 'add', [1, 2], ctx.signingKey),
    byTaskName('noop', ['x'.repeat(100)], ctx.signingKey),
  ];
  seeds = [...plain, ...signed, ...(await fuzzSeeds(ctx))];
  loaders = [];
  for (const name of loaderNames()) {
    for (const signingKey of [null, ctx.signingKey]) {
      loaders.push({
        label: `${name}${signingKey ? ' (signed)' : ''}`,
        serializer: createSerializer(name, {
          root: ctx.root,
          policy: { signingKey },
        }),
      });
    }
  }
});

afterAll(() => ctx.cleanup());

/** Every built-in loader that exists in this build. */
function loaderNames(): string[] {
  const names: string[] = [];
  for (const name of ['v8', 'json', 'source', 'auto']) {
    try {
      createSerializer(name);
      names.push(name);
    } catch {
      // Not registered in this build; covered where it is.
    }
  }
  return names;
}

/** Loads `bytes` with every loader; fails on any untyped error. */
async function loadEverywhere(bytes: Uint8Array): Promise<void> {
  for (const { label, serializer } of loaders) {
    try {
      const call = await serializer.deserialize(bytes);
      expect(typeof call.fn, label).toBe('function');
      expect(Array.isArray(call.args), label).toBe(true);
    } catch (error) {
      if (!(error instanceof SerializationError)) {
        throw new Error(
          `${label} threw an untyped ${(error as Error)?.name}: ` +
            `${(error as Error)?.message}`,
          { cause: error },
        );
      }
    }
  }
  expect(canaryFired(ctx)).toBe(false);
}

// A damage applied to a valid payload: the shapes bugs and attackers make.
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({
    kind: fc.constant('length' as const),
    at: fc.nat(),
    value: fc.oneof(fc.constant(0xffffffff), fc.constant(0), fc.nat()),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(seed: Uint8Array, steps: Mutation[]): Uint8Array {
  let bytes = Uint8Array.from(seed);
  for (const step of steps) {
    if (bytes.length === 0) break;
    const at = step.at % bytes.length;
    if (step.kind === 'flip') bytes[at]! ^= 1 << step.bit;
    else if (step.kind === 'set') bytes[at] = step.value;
    else if (step.kind === 'truncate') bytes = bytes.subarray(0, at);
    else if (step.kind === 'insert') {
      const out = new Uint8Array(bytes.length + step.bytes.length);
      out.set(bytes.subarray(0, at));
      out.set(step.bytes, at);
      out.set(bytes.subarray(at), at + step.bytes.length);
      bytes = out;
    } else if (at + 4 <= bytes.length) {
      new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, step.value, true);
    }
  }
  return bytes;
}

describe('fuzzing the load path', () => {
  it('envelope parser: random bytes give DeserializationError only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        try {
          decodeEnvelope(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(DeserializationError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('envelope parser: damaged valid payloads give DeserializationError only', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (pick, steps) => {
          try {
            decodeEnvelope(mutate(seeds[pick % seeds.length]!, steps));
          } catch (error) {
            expect(error).toBeInstanceOf(DeserializationError);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('every serializer: random bytes give typed errors only', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 256 }),
          // Random bytes behind a real magic and version reach deeper.
          fc
            .uint8Array({ maxLength: 256 })
            .map((rest) => Uint8Array.of(0x44, 0x51, 0x53, 0x5a, 1, ...rest)),
        ),
        loadEverywhere,
      ),
      { numRuns: 300 },
    );
  });

  it('every serializer: damaged valid payloads give typed errors only', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (pick, steps) => loadEverywhere(mutate(seeds[pick % seeds.length]!, steps)),
      ),
      { numRuns: 400 },
    );
  });

  it('signature check: any change to a signed payload is refused', () => {
    const ring = new Keyring(ctx.signingKey);
    const signedSeeds = seeds.filter((s) => (s[5]! & 1) === 1);
    fc.assert(
      fc.property(
        fc.nat(),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (pick, steps) => {
          const seed = signedSeeds[pick % signedSeeds.length]!;
          const damaged = mutate(seed, steps);
          fc.pre(!sameBytes(damaged, seed));
          expect(() => ring.verify(damaged)).toThrow(DeserializationError);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('pre-scans and the code scanner never throw on random input', () => {
    const deny = new DenyList(DEFAULT_DENY_NAMES);
    const keys = new Set(['__proto__']);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 200 }), (bytes, code) => {
        const v = v8Depth(bytes, 50);
        const j = jsonDepth(bytes, 50, keys);
        expect(v.depth).toBeGreaterThanOrEqual(0);
        expect(j.depth).toBeGreaterThanOrEqual(0);
        const finding = scanCode(code, { deny });
        if (finding) expect(typeof finding.why).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  it('left every prototype as it was', () => {
    expect(prototypeSnapshot()).toBe(prototypesBefore);
  });
});

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
