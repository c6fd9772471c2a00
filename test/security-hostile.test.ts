// Every payload in the hostile catalogue is thrown at a real serializer.
// Each must be refused with the expected typed error, before any of its
// code runs (neither canary fires) and without touching a prototype.

import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSerializer, registerTask } from '../src/serialize/index.js';
import {
  DeserializationError,
  PolicyViolationError,
  UnknownTaskError,
} from '../src/serialize/errors.js';
import { ruleOf, SignatureError } from '../src/serialize/policy.js';
import { hostileCases, type RefusalName } from './fixtures/hostile/cases.js';
import {
  canaryFired,
  createHostileContext,
  prototypeSnapshot,
  resetCanary,
  type HostileContext,
} from './fixtures/hostile/context.js';

const classes: Record<RefusalName, new (...args: never[]) => Error> = {
  DeserializationError,
  PolicyViolationError,
  SignatureError,
  UnknownTaskError,
};

let ctx: HostileContext;
let prototypesBefore: string;

beforeAll(() => {
  ctx = createHostileContext();
  prototypesBefore = prototypeSnapshot();
  // A task every registry case could otherwise reach, so a refusal is
  // proven to come from the check the case names, not from a missing task.
  registerTask('noop', (...args: unknown[]) => args.length);
});

afterAll(() => ctx.cleanup());

beforeEach(() => resetCanary(ctx));

describe('hostile catalogue', () => {
  it('holds at least 30 cases with unique ids across every attack class', () => {
    expect(hostileCases.length).toBeGreaterThanOrEqual(30);
    expect(new Set(hostileCases.map((c) => c.id)).size).toBe(hostileCases.length);
    const classesSeen = new Set(hostileCases.map((c) => c.attack));
    expect(classesSeen.size).toBeGreaterThanOrEqual(10);
  });

  for (const hostile of hostileCases) {
    it(`${hostile.id}: ${hostile.description}`, async () => {
      const serializer = createSerializer(hostile.loader, {
        root: ctx.root,
        policy: hostile.policy?.(ctx) ?? { signingKey: null },
      });
      const bytes = hostile.build(ctx);
      let caught: unknown;
      try {
        const call = await serializer.deserialize(bytes);
        // Not refused: show what would have run, then fail.
        caught = new Error(
          `loaded ${call.format} call to '${call.meta.fnName}' instead of refusing`,
        );
      } catch (error) {
        caught = error;
      }
      const expected = hostile.expect;
      expect(caught).toBeInstanceOf(classes[expected.error]);
      const error = caught as Error;
      if (expected.error !== 'PolicyViolationError') {
        expect(error.name).toBe(expected.error);
      }
      if (expected.rule) expect(ruleOf(error)).toBe(expected.rule);
      if (expected.message) expect(error.message).toMatch(expected.message);
      expect(canaryFired(ctx), 'payload code ran before the refusal').toBe(false);
      expect(prototypeSnapshot()).toBe(prototypesBefore);
    });
  }
});

describe('the canaries themselves', () => {
  it('fire when the evil module is imported, so a quiet canary means something', () => {
    execFileSync(process.execPath, [
      '--input-type=module',
      '-e',
      `await import(${JSON.stringify(ctx.evilModuleUrl)})`,
    ]);
    expect(canaryFired(ctx)).toBe(true);
  });

  it('fire when an open policy lets the builtin payload through and it is called', async () => {
    const open = createSerializer('v8', {
      root: ctx.root,
      policy: { signingKey: null, allowModules: ['node:fs'] },
    });
    const bytes = hostileCases
      .find((c) => c.id === 'v8-fs-writeFileSync')!
      .build(ctx);
    const call = await open.deserialize(bytes);
    await call.fn(...call.args);
    expect(canaryFired(ctx)).toBe(true);
  });
});
