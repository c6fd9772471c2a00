// Jobs enqueued into a queue no worker serves wait forever without a
// sound: the producer succeeded and the worker sees an empty queue. The
// worker command watches for them whenever it has nothing to do and tells
// the operator, once per queue every few minutes, how to serve them.

import type { Logger } from '../queue/logger.js';
import type { DuckQueue } from '../queue/queue.js';

export interface UnservedQueueWatchOptions {
  /** Queues the worker takes jobs from; these are never reported. */
  served: Iterable<string>;
  logger: Logger;
  /** A queue is reported again at most this often, in ms. Default 300_000. */
  repeatMs?: number;
  /** Checks closer together than this are skipped, in ms. Default 30_000. */
  minCheckMs?: number;
  /** Time source in epoch ms. Default Date.now. */
  clock?: () => number;
}

export const UNSERVED_REPEAT_MS = 5 * 60_000;
export const UNSERVED_MIN_CHECK_MS = 30_000;
const UNSERVED_MESSAGE = 'jobs are waiting in a queue this worker does not serve';

export class UnservedQueueWatch {
  private readonly served: ReadonlySet<string>;
  private readonly log: Logger;
  private readonly repeatMs: number;
  private readonly minCheckMs: number;
  private readonly clock: () => number;
  private readonly warnedAt = new Map<string, number>();
  private lastCheckAt = -Infinity;
  /** Checks run one after another, never two on the store at once. */
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly queue: DuckQueue,
    options: UnservedQueueWatchOptions,
  ) {
    this.served = new Set(options.served);
    this.log = options.logger;
    this.repeatMs = options.repeatMs ?? UNSERVED_REPEAT_MS;
    this.minCheckMs = options.minCheckMs ?? UNSERVED_MIN_CHECK_MS;
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Look for waiting jobs in other queues now, unless a check ran within
   * minCheckMs (a worker that goes idle after every job would otherwise
   * count the queues after every job). Resolves when the check is done.
   */
  check(options: { force?: boolean } = {}): Promise<void> {
    const now = this.clock();
    if (!options.force && now - this.lastCheckAt < this.minCheckMs) {
      return this.running;
    }
    this.lastCheckAt = now;
    this.running = this.running.then(() => this.checkOnce());
    return this.running;
  }

  private async checkOnce(): Promise<void> {
    try {
      for (const name of await this.queue.queues()) {
        if (this.served.has(name)) continue;
        const { pending, delayed } = await this.queue.stats(name);
        if (pending + delayed === 0) continue;
        const now = this.clock();
        const last = this.warnedAt.get(name);
        if (last !== undefined && now - last < this.repeatMs) continue;
        this.warnedAt.set(name, now);
        this.log.warn(UNSERVED_MESSAGE, {
          queue: name,
          pending,
          delayed,
          // A name with ':' needs its weight spelt out on the command line.
          fix:
            `add --queue ${name.includes(':') ? `${name}:1` : name} to this ` +
            'worker or start one with it',
        });
      }
    } catch (err) {
      // Advice only: a store hiccup here must not stop the worker, and the
      // worker reports store failures of its own.
      this.log.debug('could not look for jobs in other queues', {
        reason: String(err),
      });
    }
  }
}
