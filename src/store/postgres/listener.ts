// Wakes idle workers when jobs become ready, through LISTEN/NOTIFY.
//
// Writers that make a job ready send NOTIFY on one channel with the payload
// '<schema>/<queue>'. A store that is asked to wait opens one extra
// connection, LISTENs, and resolves waits as matching notifications arrive.
// Notifications are hints, never the source of truth: a wait that returns
// true can be a false alarm (another worker took the job first), and a
// missed notification only costs the caller one wait timeout, after which
// it claims anyway.

import type pg from 'pg';
import type { PgDriver } from './driver.js';

export const NOTIFY_CHANNEL = 'duckqueue_jobs';

interface Waiter {
  queues: readonly string[];
  resolve(woken: boolean): void;
  timer: NodeJS.Timeout;
}

export class JobListener {
  private client: pg.Client | null = null;
  private connecting: Promise<boolean> | null = null;
  private readonly waiters = new Set<Waiter>();
  /** Bumped on every matching notification. */
  private seq = 0;
  /** Per queue: `seq` at its last notification. */
  private readonly notifiedAt = new Map<string, number>();
  /** Per queue: `seq` when its last claim started. */
  private readonly claimedAt = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly driver: PgDriver,
    private readonly config: pg.ClientConfig,
    private readonly schema: string,
    private readonly onConnectionError: (err: Error) => void,
  ) {}

  /**
   * Record that a claim on `queue` is starting: notifications that arrive
   * after this may be for jobs that claim did not see.
   */
  markClaim(queue: string): void {
    this.claimedAt.set(queue, this.seq);
  }

  /**
   * Resolve true as soon as a job may be ready in one of `queues` (any
   * queue when empty), or false after `timeoutMs`.
   */
  async wait(queues: readonly string[], timeoutMs: number): Promise<boolean> {
    if (this.closed) return false;
    if (this.client === null) {
      if (await this.connect()) {
        // Jobs that became ready before LISTEN took effect sent their
        // notifications to nobody: have the caller look once more.
        return true;
      }
      // No listening connection: behave like a plain poll interval.
      return this.sleep(queues, timeoutMs, true);
    }
    if (this.notifiedSinceClaim(queues)) return true;
    return this.sleep(queues, timeoutMs, false);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeAll(false);
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => undefined);
  }

  private notifiedSinceClaim(queues: readonly string[]): boolean {
    const names = queues.length ? queues : [...this.notifiedAt.keys()];
    return names.some(
      (q) => (this.notifiedAt.get(q) ?? -1) > (this.claimedAt.get(q) ?? 0),
    );
  }

  private sleep(
    queues: readonly string[],
    timeoutMs: number,
    timerOnly: boolean,
  ): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        // A waiter with no queue to match is woken only by its timer.
        queues: timerOnly ? ['\0'] : queues,
        resolve: (woken) => {
          clearTimeout(waiter.timer);
          this.waiters.delete(waiter);
          resolve(woken);
        },
        timer: setTimeout(() => waiter.resolve(false), timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  private connect(): Promise<boolean> {
    this.connecting ??= this.open().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async open(): Promise<boolean> {
    const client = new this.driver.Client(this.config);
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, null));
    client.on('notification', (n) => this.onNotification(n.payload));
    try {
      await client.connect();
      await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      this.onConnectionError(err as Error);
      return false;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return false;
    }
    this.client = client;
    return true;
  }

  private onNotification(payload: string | undefined): void {
    if (!payload) return;
    const slash = payload.indexOf('/');
    if (payload.slice(0, slash) !== this.schema) return;
    const queue = payload.slice(slash + 1);
    this.seq += 1;
    this.notifiedAt.set(queue, this.seq);
    for (const w of [...this.waiters]) {
      if (w.queues.length === 0 || w.queues.includes(queue)) w.resolve(true);
    }
  }

  /** The listening connection died: waiters look again, next wait relistens. */
  private lost(client: pg.Client, err: Error | null): void {
    if (this.client !== client) return;
    this.client = null;
    client.end().catch(() => undefined);
    if (err) this.onConnectionError(err);
    this.wakeAll(true);
  }

  private wakeAll(woken: boolean): void {
    for (const w of [...this.waiters]) w.resolve(woken);
  }
}
