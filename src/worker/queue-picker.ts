// Chooses which queue the next claim comes from. Smooth weighted round
// robin: with { high: 3, low: 1 } the picks run high, high, low, high and
// repeat, so shares match the weights exactly and are spread out, with no
// randomness to make runs differ.

export class QueuePicker {
  private readonly names: string[];
  private readonly weights: number[];
  private readonly current: number[];
  private readonly total: number;
  /** Queue names, heaviest first: the fall-through order. */
  readonly byWeight: string[];

  constructor(weights: Map<string, number>) {
    this.names = [...weights.keys()];
    this.weights = [...weights.values()];
    this.current = this.weights.map(() => 0);
    this.total = this.weights.reduce((a, b) => a + b, 0);
    this.byWeight = [...this.names].sort(
      (a, b) => weights.get(b)! - weights.get(a)!,
    );
  }

  next(): string {
    let best = 0;
    for (let i = 0; i < this.names.length; i++) {
      this.current[i]! += this.weights[i]!;
      if (this.current[i]! > this.current[best]!) best = i;
    }
    this.current[best]! -= this.total;
    return this.names[best]!;
  }

  /** How many of the next `n` claims go to each queue. */
  plan(n: number): Map<string, number> {
    const plan = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const q = this.next();
      plan.set(q, (plan.get(q) ?? 0) + 1);
    }
    return plan;
  }
}
