// Property test on the structure of source payloads: hand-written bodies
// with random holes, slots, captures and imports (the fields an attacker
// controls) must load or fail with a typed error, whatever points where.

import v8 from 'node:v8';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SerializationError } from '../src/serialize/errors.js';
import { createSerializer } from '../src/serialize/index.js';
import {
  canaryFired,
  createHostileContext,
  prototypeSnapshot,
  type HostileContext,
} from './fixtures/hostile/context.js';
import { envelope } from './fixtures/hostile/payloads.js';

let ctx: HostileContext;
beforeAll(() => {
  ctx = createHostileContext();
});
afterAll(() => ctx.cleanup());

const slot = fc.oneof(
  fc.record({ v: fc.anything() }),
  fc.record({ h: fc.integer({ min: -1, max: 4 }) }),
  fc.record({ d: fc.anything() }),
  fc.anything(),
);

const text = fc.oneof(
  fc.constantFrom('() => 1', '(a) => a', 'function f() { return f }', 'm() {}'),
  fc.string(),
);

const hole = fc.oneof(
  fc.record({
    k: fc.constant('fn'),
    src: text,
    form: fc.oneof(fc.constantFrom('expression', 'method'), fc.anything()),
    strict: fc.boolean(),
    caps: fc.oneof(
      fc.array(fc.tuple(fc.oneof(fc.constantFrom('a', 'f'), fc.string()), slot), {
        maxLength: 3,
      }),
      fc.anything(),
    ),
    eager: fc.oneof(fc.constant([]), fc.constant(['a']), fc.anything()),
    props: fc.option(slot),
  }),
  fc.record({ k: fc.constant('import'), i: fc.anything() }),
  fc.record({ k: fc.constant('builtin'), path: fc.oneof(fc.constant('Math.max'), fc.string()) }),
  fc.record({ k: fc.constant('symbol'), key: fc.anything() }),
  fc.record({ k: fc.constant('bound'), target: slot, thisArg: slot, args: slot }),
  fc.record({ k: fc.constant('instance'), cls: slot, props: slot }),
  fc.record({ k: fc.constant('require'), module: fc.anything() }),
  fc.anything(),
);

const imports = fc.array(
  fc.tuple(
    fc.oneof(fc.constantFrom('./jobs/honest.mjs', 'lodash-es', 'node:path'), fc.string()),
    fc.oneof(fc.constantFrom('*', 'add', 'join'), fc.string()),
  ),
  { maxLength: 2 },
);

it('random source bodies give typed errors only, and run nothing', async () => {
  const prototypes = prototypeSnapshot();
  const loaders = ['source', 'auto'].map((name) =>
    createSerializer(name, { root: ctx.root, policy: { signingKey: null } }),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(hole, { minLength: 1, maxLength: 4 }),
      slot,
      slot,
      imports,
      async (holes, root, args, importList) => {
        const body = {
          v: 1,
          root,
          args,
          holes,
          marks: holes.map(() => ({})),
          imports: importList,
        };
        let bytes: Uint8Array;
        try {
          bytes = envelope({ format: 'source', header: { fnName: 'x' }, body: v8.serialize(body) });
        } catch {
          return; // fast-check made a value node:v8 cannot write
        }
        for (const loader of loaders) {
          try {
            await loader.deserialize(bytes);
          } catch (error) {
            if (!(error instanceof SerializationError)) throw error;
          }
        }
      },
    ),
    { numRuns: 1500 },
  );
  expect(canaryFired(ctx)).toBe(false);
  expect(prototypeSnapshot()).toBe(prototypes);
});
