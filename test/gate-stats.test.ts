// Reference values computed with scipy.stats.mannwhitneyu (scipy 1.17).
import { describe, expect, it } from 'vitest';

import {
  mannWhitneyU,
  median,
  smallestPossibleP,
} from '../src/bench/compare-stats.js';

describe('median', () => {
  it('takes the middle value, or the mean of the middle two', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('refuses an empty list', () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('mannWhitneyU', () => {
  it('matches the exact distribution without ties', () => {
    const x = [1.2, 3.4, 2.2, 5.1, 4.4, 3.3, 2.9];
    const y = [0.5, 1.1, 2.0, 1.7, 2.5, 0.9];
    const test = mannWhitneyU(x, y);
    expect(test.method).toBe('exact');
    expect(test.u).toBe(38);
    expect(test.pGreater).toBeCloseTo(0.006993006993006993, 12);
    expect(test.pLess).toBeCloseTo(0.995920745920746, 12);
  });

  it('gives 1 / C(m+n, m) for complete separation', () => {
    const test = mannWhitneyU([5, 6, 7, 8], [1, 2, 3]);
    expect(test.u).toBe(12);
    expect(test.pGreater).toBeCloseTo(1 / 35, 12);
    expect(smallestPossibleP(4, 3)).toBeCloseTo(1 / 35, 12);
  });

  it('uses the tie-corrected normal approximation with ties', () => {
    const a = [1, 2, 2, 3, 3, 3, 4, 5];
    const b = [2, 3, 4, 4, 5, 5, 6, 6, 7];
    const test = mannWhitneyU(a, b);
    expect(test.method).toBe('normal');
    expect(test.u).toBe(13.5);
    expect(test.pLess).toBeCloseTo(0.015879478574031856, 6);
    expect(test.pGreater).toBeCloseTo(0.9876172774448116, 6);
  });

  it('uses the normal approximation for large samples', () => {
    const y = Array.from({ length: 45 }, (_, i) => i);
    const x = y.map((v) => v + 10.5);
    const test = mannWhitneyU(x, y);
    expect(test.method).toBe('normal');
    expect(test.u).toBe(1430);
    expect(test.pGreater).toBeCloseTo(0.00038262803136256677, 6);
  });

  it('finds no evidence when every value is equal', () => {
    const test = mannWhitneyU([1, 1, 1], [1, 1, 1, 1]);
    expect(test.pGreater).toBe(1);
    expect(test.pLess).toBe(1);
  });

  it('refuses an empty sample', () => {
    expect(() => mannWhitneyU([], [1])).toThrow(/non-empty/);
  });
});
