// Statistics the regression gate needs to compare two sets of samples:
// medians and the Mann–Whitney U rank test. Rank tests suit benchmark
// samples because they make no assumption about the shape of the noise
// (timings are skewed, with a long tail of slow rounds) and one wild
// outlier moves a rank by at most one place.

/** Median of a non-empty list; the mean of the middle two for even sizes. */
export function median(values: readonly number[]): number {
  if (values.length === 0) {
    throw new RangeError('median of an empty list is undefined');
  }
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[mid]!
    : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface RankTest {
  /** Pairs (x, y) with x > y, ties counted as one half. */
  u: number;
  /** One-sided p-value for "x tends to be larger than y". */
  pGreater: number;
  /** One-sided p-value for "x tends to be smaller than y". */
  pLess: number;
  /** 'exact' enumerates the null distribution; 'normal' approximates it. */
  method: 'exact' | 'normal';
}

/**
 * Largest sample sizes for which the exact null distribution is computed.
 * Above this the normal approximation is within a few percent of exact.
 */
const EXACT_LIMIT = 40;

/**
 * Mann–Whitney U test of sample `x` against sample `y`.
 *
 * Uses the exact distribution when there are no ties and both samples have
 * at most 40 values, otherwise the normal approximation with tie and
 * continuity corrections.
 */
export function mannWhitneyU(
  x: readonly number[],
  y: readonly number[],
): RankTest {
  const m = x.length;
  const n = y.length;
  if (m === 0 || n === 0) {
    throw new RangeError(
      `mannWhitneyU needs two non-empty samples (got ${m} and ${n})`,
    );
  }
  const { ranks, tieTerm } = rankAll([...x, ...y]);
  let rankSumX = 0;
  for (let i = 0; i < m; i++) rankSumX += ranks[i]!;
  const u = rankSumX - (m * (m + 1)) / 2;

  if (tieTerm === 0 && m <= EXACT_LIMIT && n <= EXACT_LIMIT) {
    const cdf = exactUDistribution(m, n);
    // U is an integer without ties. P(U >= u) = 1 - P(U <= u - 1).
    const pLess = cdf[u]!;
    const pGreater = u === 0 ? 1 : 1 - cdf[u - 1]!;
    return { u, pGreater: clampP(pGreater), pLess: clampP(pLess), method: 'exact' };
  }

  const total = m + n;
  const mean = (m * n) / 2;
  const variance =
    ((m * n) / 12) * (total + 1 - tieTerm / (total * (total - 1)));
  if (variance <= 0) {
    // Every value is the same: no evidence either way.
    return { u, pGreater: 1, pLess: 1, method: 'normal' };
  }
  const sd = Math.sqrt(variance);
  const zGreater = (u - mean - 0.5) / sd;
  const zLess = (u - mean + 0.5) / sd;
  return {
    u,
    pGreater: clampP(upperNormalTail(zGreater)),
    pLess: clampP(1 - upperNormalTail(zLess)),
    method: 'normal',
  };
}

/**
 * The smallest one-sided p-value the rank test can reach with samples of
 * these sizes: 1 / C(m + n, m). If it is not below the significance level,
 * no amount of slowdown can be detected and more samples are needed.
 */
export function smallestPossibleP(m: number, n: number): number {
  let logChoose = 0;
  for (let i = 1; i <= m; i++) {
    logChoose += Math.log(n + i) - Math.log(i);
  }
  return Math.exp(-logChoose);
}

function clampP(p: number): number {
  return Math.min(1, Math.max(0, p));
}

/** Average ranks (1-based) and the tie term sum(t^3 - t) over tie groups. */
function rankAll(values: number[]): { ranks: number[]; tieTerm: number } {
  const order = values.map((v, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Array<number>(values.length);
  let tieTerm = 0;
  let start = 0;
  while (start < order.length) {
    let end = start + 1;
    while (end < order.length && values[order[end]!] === values[order[start]!]) {
      end++;
    }
    const averageRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]!] = averageRank;
    const t = end - start;
    tieTerm += t * t * t - t;
    start = end;
  }
  return { ranks, tieTerm };
}

/**
 * Cumulative null distribution of U for sizes m and n: cdf[u] = P(U <= u).
 * Built with the recurrence on the largest value of the pooled sample: it
 * belongs to x (and beats all n values of y) or to y (and beats none).
 */
function exactUDistribution(m: number, n: number): number[] {
  // counts[j][i] holds the distribution for sizes (i, j) as a frequency
  // array; frequencies are divided by C(i + j, i) at the end.
  let previous: number[][] = [];
  for (let j = 0; j <= n; j++) {
    const row: number[][] = [];
    for (let i = 0; i <= m; i++) {
      if (i === 0 || j === 0) {
        row.push([1]);
        continue;
      }
      const withX = row[i - 1]!; // sizes (i - 1, j), shifted by j
      const withY = previous[i]!; // sizes (i, j - 1)
      const freq = new Array<number>(i * j + 1).fill(0);
      for (let u = 0; u < withX.length; u++) freq[u + j]! += withX[u]!;
      for (let u = 0; u < withY.length; u++) freq[u]! += withY[u]!;
      row.push(freq);
    }
    previous = row;
  }
  const freq = previous[m]!;
  const total = freq.reduce((a, b) => a + b, 0);
  const cdf: number[] = [];
  let running = 0;
  for (const f of freq) {
    running += f;
    cdf.push(running / total);
  }
  return cdf;
}

/** P(Z > z) for a standard normal Z, accurate to about 1e-7. */
function upperNormalTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** Complementary error function (Chebyshev fit, relative error < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -z * z -
    1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t *
                          (-1.13520398 +
                            t *
                              (1.48851587 +
                                t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(poly);
  return x >= 0 ? r : 2 - r;
}

/**
 * One-sided prediction test for a single new run against K earlier runs:
 * how likely a run at least `value` is if it came from the same normal
 * distribution as `previous` (Student t with K - 1 degrees of freedom and
 * the prediction-interval scale sd * sqrt(1 + 1/K)). Needs K >= 2.
 *
 * `minSd` puts a floor under the estimated spread: runs recorded minutes
 * apart share the machine's state of the moment and can look steadier
 * than runs taken on another day.
 */
export function predictionPGreater(
  value: number,
  previous: readonly number[],
  minSd = 0,
): number {
  const k = previous.length;
  if (k < 2) {
    throw new RangeError(
      `predictionPGreater needs >= 2 earlier runs (got ${k})`,
    );
  }
  const { mean, scale } = predictionScale(previous, minSd);
  if (scale === 0) return value > mean ? 0 : 1;
  return studentTUpper((value - mean) / scale, k - 1);
}

/**
 * The smallest value above the mean of `previous` (in the same units) that
 * predictionPGreater would call significant at `alpha`.
 */
export function predictionBand(
  previous: readonly number[],
  alpha: number,
  minSd = 0,
): number {
  const { scale } = predictionScale(previous, minSd);
  return studentTQuantile(1 - alpha, previous.length - 1) * scale;
}

function predictionScale(
  previous: readonly number[],
  minSd: number,
): { mean: number; scale: number } {
  const k = previous.length;
  const mean = previous.reduce((a, b) => a + b, 0) / k;
  const variance =
    previous.reduce((a, b) => a + (b - mean) ** 2, 0) / (k - 1);
  const sd = Math.max(Math.sqrt(variance), minSd);
  return { mean, scale: sd * Math.sqrt(1 + 1 / k) };
}

/** P(T > t) for Student's t with `df` degrees of freedom. */
export function studentTUpper(t: number, df: number): number {
  const x = df / (df + t * t);
  const tail = 0.5 * regularizedBeta(x, df / 2, 0.5);
  return t >= 0 ? tail : 1 - tail;
}

/** The q-quantile of Student's t (bisection on the upper tail). */
export function studentTQuantile(q: number, df: number): number {
  let lo = -1e3;
  let hi = 1e3;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (1 - studentTUpper(mid, df) < q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Regularized incomplete beta I_x(a, b) by Lentz's continued fraction. */
function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) +
      a * Math.log(x) + b * Math.log(1 - x),
  );
  // The fraction converges fast only below this point; use symmetry above.
  if (x > (a + 1) / (a + b + 2)) return 1 - regularizedBeta(1 - x, b, a);
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-12) break;
  }
  return (front * h) / a;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7). */
function logGamma(x: number): number {
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028,
    771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) {
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  }
  const z = x - 1;
  let sum = coefficients[0]!;
  for (let i = 1; i < 9; i++) sum += coefficients[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}
