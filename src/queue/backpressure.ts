// Tracks how many jobs wait in each queue without counting the table on
// every enqueue: the store count is read at most once per refresh period
// and grown locally in between. Near the hard limit the count is re-read
// before refusing, so a drained queue accepts work again at once.

import { QueueFullError } from './errors.js';

export interface BackpressureEvent {
  queue: string;
  /** Waiting jobs (pending + delayed) when the level was crossed. */
  waiting: number;
  warnPendingAt: number;
  /** Infinity when there is no hard limit. */
  maxPending: number;
}

interface Gauge {
  waiting: number;
  readAt: number;
  warned: boolean;
}

export class BackpressureGauge {
  private readonly gauges = new Map<string, Gauge>();

  constructor(
    private readonly warnAt: number,
    private readonly max: number,
    private readonly refreshMs: number,
    private readonly countWaiting: (queue: string) => Promise<number>,
    private readonly onWarn: (event: BackpressureEvent) => void,
  ) {}

  /** True when neither limit is set: callers skip the gauge entirely. */
  get off(): boolean {
    return this.warnAt === Infinity && this.max === Infinity;
  }

  /** Throws QueueFullError if `adding` more jobs would pass maxPending. */
  async admit(queue: string, adding: number, now: number): Promise<void> {
    let g = this.gauges.get(queue);
    if (!g || now - g.readAt >= this.refreshMs) {
      g = await this.read(queue, now, g);
    }
    if (g.waiting + adding > this.max) {
      // The estimate only grows between reads; look again before refusing.
      g = await this.read(queue, now, g);
      if (g.waiting + adding > this.max) {
        throw new QueueFullError(queue, g.waiting, this.max);
      }
    }
  }

  /** Record jobs that were just inserted. */
  added(queue: string, count: number): void {
    const g = this.gauges.get(queue);
    if (!g) return;
    g.waiting += count;
    this.check(queue, g);
  }

  private async read(queue: string, now: number, old?: Gauge): Promise<Gauge> {
    const g: Gauge = {
      waiting: await this.countWaiting(queue),
      readAt: now,
      warned: old?.warned ?? false,
    };
    this.gauges.set(queue, g);
    this.check(queue, g);
    return g;
  }

  private check(queue: string, g: Gauge): void {
    if (!g.warned && g.waiting >= this.warnAt) {
      g.warned = true;
      this.onWarn({
        queue,
        waiting: g.waiting,
        warnPendingAt: this.warnAt,
        maxPending: this.max,
      });
    } else if (g.warned && g.waiting < this.warnAt) {
      // Re-arm: the next crossing warns again.
      g.warned = false;
    }
  }
}
