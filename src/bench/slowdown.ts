// Deliberate, real slowdowns for proving that the regression gate catches
// them. DUCKQUEUE_BENCH_SLOWDOWN=source:1.25 makes every timed operation
// tagged `source` take 1.25 times as long: after the operation returns, the
// wrapper busy-waits for 0.25 times the operation's own measured time. The
// numbers are never edited; the measured work really is slower.

export const SLOWDOWN_ENV = 'DUCKQUEUE_BENCH_SLOWDOWN';

export class InvalidSlowdownError extends Error {
  constructor(entry: string, why: string) {
    super(
      `${SLOWDOWN_ENV}: bad entry '${entry}': ${why}. ` +
        "Use a comma-separated list of tag:factor, e.g. 'source:1.25,v8:1.1' " +
        '(factor a number ≥ 1).',
    );
    this.name = 'InvalidSlowdownError';
  }
}

export type SlowdownPlan = ReadonlyMap<string, number>;

export function parseSlowdown(text: string | undefined): SlowdownPlan {
  const plan = new Map<string, number>();
  if (!text || !text.trim()) return plan;
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const colon = entry.lastIndexOf(':');
    if (colon <= 0) throw new InvalidSlowdownError(entry, 'no tag:factor');
    const tag = entry.slice(0, colon).trim();
    const factor = Number(entry.slice(colon + 1));
    if (!Number.isFinite(factor) || factor < 1) {
      throw new InvalidSlowdownError(entry, 'factor is not a number ≥ 1');
    }
    plan.set(tag, factor);
  }
  return plan;
}

let envPlan: SlowdownPlan | undefined;

/** The plan from the environment, parsed once per process. */
export function slowdownFromEnv(): SlowdownPlan {
  envPlan ??= parseSlowdown(process.env[SLOWDOWN_ENV]);
  return envPlan;
}

/** Combined factor for an operation carrying these tags (1 = none). */
export function slowdownFactor(
  tags: readonly string[],
  plan: SlowdownPlan = slowdownFromEnv(),
): number {
  let factor = 1;
  for (const tag of tags) factor *= plan.get(tag) ?? 1;
  return factor;
}

// performance.now() returns a plain double, so the wait loop allocates
// nothing; bigint timestamps would add garbage collection the operation
// itself never caused.
function spinUntil(deadline: number): void {
  while (performance.now() < deadline) {
    // Busy-wait on purpose: a timer would yield the CPU and not cost time
    // the way slower code does.
  }
}

let clockReadCost: number | undefined;

/** Mean cost of one performance.now() call, in ms, measured once. */
function clockCost(): number {
  if (clockReadCost === undefined) {
    const reads = 20_000;
    let sink = 0;
    const start = performance.now();
    for (let i = 0; i < reads; i++) sink += performance.now();
    clockReadCost = (performance.now() - start) / reads;
    if (sink === -1) clockReadCost = 0;
  }
  return clockReadCost;
}

// The wrapper itself reads the clock about three times; that time already
// counts as slowdown, so it is taken off the wait.
function stretch(start: number, factor: number, overhead: number): void {
  const now = performance.now();
  spinUntil(now + (now - start) * (factor - 1) - overhead);
}

/**
 * Wraps an operation so it takes `factor` times as long. Returns the
 * operation itself when no slowdown applies, so normal runs pay nothing.
 * Works for synchronous operations and for ones returning a promise.
 */
export function withSlowdown<T>(
  tags: readonly string[],
  op: () => T,
  plan: SlowdownPlan = slowdownFromEnv(),
): () => T {
  const factor = slowdownFactor(tags, plan);
  if (factor === 1) return op;
  const overhead = 3 * clockCost();
  return () => {
    const start = performance.now();
    const out = op();
    if (out && typeof (out as { then?: unknown }).then === 'function') {
      return (out as unknown as Promise<unknown>).then((value) => {
        stretch(start, factor, overhead);
        return value;
      }) as T;
    }
    stretch(start, factor, overhead);
    return out;
  };
}
