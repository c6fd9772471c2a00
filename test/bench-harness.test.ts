// The timing harness's arithmetic and its slowdown injection. No test here
// asserts how fast anything is; the slowdown test checks a lower bound the
// busy-wait guarantees however loaded the machine is.

import { describe, expect, it } from 'vitest';
import { measureAgainst } from '../src/bench/measure.js';
import {
  InvalidSlowdownError,
  parseSlowdown,
  slowdownFactor,
  withSlowdown,
} from '../src/bench/slowdown.js';
import { EmptySamplesError, summarize, tCritical95 } from '../src/bench/stats.js';

describe('summarize', () => {
  it('computes the order statistics, spread and margin of error', () => {
    const stats = summarize([4, 1, 3, 2, 5]);
    expect(stats).toMatchObject({ n: 5, min: 1, max: 5, mean: 3, median: 3 });
    expect(stats.sd).toBeCloseTo(Math.sqrt(2.5), 10);
    expect(stats.p99).toBeCloseTo(4.96, 10);
    // 95% t for 4 degrees of freedom is 2.776.
    const moe = (2.776 * Math.sqrt(2.5)) / Math.sqrt(5);
    expect(stats.rme).toBeCloseTo((100 * moe) / 3, 6);
  });

  it('gives a zero spread for one sample and refuses none', () => {
    expect(summarize([7])).toMatchObject({ n: 1, sd: 0, rme: 0, median: 7 });
    expect(() => summarize([], 'speed.x')).toThrow(EmptySamplesError);
    expect(() => summarize([], 'speed.x')).toThrow(/speed\.x/);
  });

  it('approaches the normal critical value for many samples', () => {
    expect(tCritical95(1)).toBeCloseTo(12.706, 3);
    expect(tCritical95(1000)).toBeGreaterThan(1.96);
    expect(tCritical95(1000)).toBeLessThan(1.963);
  });
});

describe('DUCKQUEUE_BENCH_SLOWDOWN parsing', () => {
  it('reads a comma-separated tag:factor list', () => {
    const plan = parseSlowdown('source:1.25, v8:2');
    expect([...plan]).toEqual([
      ['source', 1.25],
      ['v8', 2],
    ]);
    expect(slowdownFactor(['source'], plan)).toBe(1.25);
    expect(slowdownFactor(['source', 'v8'], plan)).toBe(2.5);
    expect(slowdownFactor(['json'], plan)).toBe(1);
    expect(parseSlowdown(undefined).size).toBe(0);
  });

  it.each(['source', 'source:fast', 'source:0.5', ':2'])(
    'rejects %j naming the entry',
    (text) => {
      expect(() => parseSlowdown(text)).toThrow(InvalidSlowdownError);
      expect(() => parseSlowdown(text)).toThrow(text);
    },
  );
});

function spin(ms: number): number {
  const start = performance.now();
  while (performance.now() - start < ms) {
    // work
  }
  return performance.now() - start;
}

describe('withSlowdown', () => {
  it('returns the operation itself when no slowdown applies', () => {
    const op = () => 1;
    expect(withSlowdown(['json'], op, parseSlowdown('source:2'))).toBe(op);
  });

  it('makes a tagged operation really take factor times as long', () => {
    let own = 0;
    const slowed = withSlowdown(
      ['source'],
      () => {
        own = spin(3);
        return 'result';
      },
      parseSlowdown('source:3'),
    );
    const start = performance.now();
    expect(slowed()).toBe('result');
    const total = performance.now() - start;
    // The wait is (factor - 1) × the operation's own time: a lower bound.
    expect(total).toBeGreaterThanOrEqual(own * 2.9);
  });

  it('slows operations that return a promise after they settle', async () => {
    let own = 0;
    const slowed = withSlowdown(
      ['v8'],
      async () => {
        own = spin(3);
        return 7;
      },
      parseSlowdown('v8:2'),
    );
    const start = performance.now();
    await expect(slowed()).resolves.toBe(7);
    expect(performance.now() - start).toBeGreaterThanOrEqual(own * 1.9);
  });
});

describe('measureAgainst', () => {
  it('pairs every round of the task with a round of its reference', async () => {
    const settings = { rounds: 3, roundTimeMs: 2, minIterations: 4, warmupMs: 2 };
    const timed = await measureAgainst(
      { id: 'test.task', tags: ['test'], run: () => spin(0.01) },
      { id: 'test.reference', tags: [], run: () => spin(0.01) },
      settings,
    );
    const { task, referenceSamples } = timed;
    expect(task.samples).toHaveLength(3);
    expect(referenceSamples).toHaveLength(3);
    expect(task.ratio?.to).toBe('test.reference');
    task.ratio!.samples.forEach((ratio, i) => {
      expect(ratio).toBeCloseTo(task.samples[i]! / referenceSamples[i]!, 12);
    });
    expect(task.detail!.iterations).toBeGreaterThanOrEqual(3 * 4);
    expect(task.stats.n).toBe(3);
  });

  it('turns an operation that throws into a MeasurementError naming it', async () => {
    const settings = { rounds: 1, roundTimeMs: 1, minIterations: 1, warmupMs: 1 };
    await expect(
      measureAgainst(
        {
          id: 'test.throws',
          tags: [],
          run: () => {
            throw new Error('boom');
          },
        },
        { id: 'test.reference', tags: [], run: () => 1 },
        settings,
      ),
    ).rejects.toThrow(/operation 'test\.throws' threw while being timed: boom/);
  });
});
