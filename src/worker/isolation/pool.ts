// A pool of isolates for one Worker. Each isolate runs one job at a time;
// the pool grows to the worker's concurrency and keeps isolates between
// jobs, so start-up (a new V8 heap, loading the serializers) is paid once
// per isolate, not per job. An isolate that dies - killed on a timeout,
// out of memory, process.exit() in a job, an uncaught error - is dropped
// and the next job starts a fresh one.

import { deserialize } from 'node:v8';
import type { DagJobRow } from '../../dag/store.js';
import { JobTimeoutError, ResultEncodingError } from '../../queue/errors.js';
import type { ClaimedJob } from '../../queue/job.js';
import type { Logger } from '../../queue/logger.js';
import {
  IsolateCrashError,
  IsolateExitError,
  IsolateMemoryError,
  IsolateStartError,
} from './errors.js';
import type { ResolvedIsolation } from './options.js';
import {
  fromWireError,
  type FromIsolate,
  type ResultMessage,
  type WireError,
} from './protocol.js';
import { startTransport, type ExitInfo, type Transport } from './transport.js';

/** How a job ended in its isolate, for the worker to record. */
export type IsolateOutcome =
  | { kind: 'done'; result: unknown }
  /** The payload cannot become a call (or its result cannot be stored):
   * retrying will not help, so the job is failed without retries. */
  | { kind: 'unloadable'; error: unknown }
  /** The job failed; retried or dead by the usual rules. */
  | { kind: 'failed'; error: unknown }
  /**
   * No isolate could take the job, so it never ran: give it back without
   * counting an attempt. `fatal` when an isolate failed to start (a
   * preload module that throws, a sandbox that cannot read the loader):
   * every later job would fail the same way.
   */
  | { kind: 'unstarted'; error: IsolateStartError; fatal: boolean };

export interface PoolSettings {
  isolation: ResolvedIsolation;
  /** The queue's serialization name and options, sent to each isolate. */
  serialization: string;
  serializerOptions: Record<string, unknown>;
  /** Reads a DAG task's node row for its context (the store's jobNode). */
  dagNode: (jobId: string) => Promise<DagJobRow | null>;
  logger: Logger;
  workerId: string;
}

export class IsolatePool {
  private readonly idle: Isolate[] = [];
  private readonly live = new Set<Isolate>();
  private closed = false;

  constructor(private readonly settings: PoolSettings) {}

  /** Isolates alive now (idle or running a job). */
  get size(): number {
    return this.live.size;
  }

  /**
   * Start one isolate ahead of the first job, so a worker whose isolates
   * cannot start learns it before claiming anything. Throws
   * IsolateStartError.
   */
  async warm(): Promise<void> {
    if (this.idle.length > 0) return;
    const isolate = await this.startIsolate();
    if (isolate.alive && !this.closed) this.idle.push(isolate);
  }

  async run(job: ClaimedJob): Promise<IsolateOutcome> {
    let isolate = this.idle.pop();
    if (!isolate) {
      try {
        isolate = await this.startIsolate();
      } catch (error) {
        const startError =
          error instanceof IsolateStartError
            ? error
            : new IsolateStartError(this.settings.isolation.mode, String(error));
        return { kind: 'unstarted', error: startError, fatal: !this.closed };
      }
    }
    if (!isolate.alive) {
      // It ended while idle; the next job starts a fresh one.
      const error = new IsolateStartError(
        this.settings.isolation.mode,
        'it ended before the job could be sent to it',
      );
      return { kind: 'unstarted', error, fatal: false };
    }
    const outcome = await isolate.run(job);
    if (isolate.alive && !this.closed) this.idle.push(isolate);
    return outcome;
  }

  /** Stop every isolate (running jobs end with IsolateExitError). */
  async close(): Promise<void> {
    this.closed = true;
    this.idle.length = 0;
    await Promise.all([...this.live].map((isolate) => isolate.kill()));
  }

  private async startIsolate(): Promise<Isolate> {
    const isolate = new Isolate(this.settings, (dead, info) => {
      this.live.delete(dead);
      const at = this.idle.indexOf(dead);
      if (at >= 0) this.idle.splice(at, 1);
      if (at >= 0 && !this.closed) {
        this.settings.logger.warn(
          'an idle job isolate ended; a new one starts with the next job ' +
            '(a previous job left a failing timer or promise behind?)',
          {
            workerId: this.settings.workerId,
            isolation: this.settings.isolation.mode,
            exitCode: info.code,
            signal: info.signal,
            output: info.output,
          },
        );
      }
    });
    this.live.add(isolate);
    if (this.closed) {
      await isolate.kill();
      throw new IsolateStartError(
        this.settings.isolation.mode,
        'the worker is stopping',
      );
    }
    await isolate.ready;
    return isolate;
  }
}

interface Running {
  job: ClaimedJob;
  settle: (outcome: IsolateOutcome) => void;
  timedOut: boolean;
  timer: NodeJS.Timeout | undefined;
}

class Isolate {
  readonly ready: Promise<void>;
  alive = true;
  private readonly transport: Transport;
  private readonly exited: Promise<void>;
  private running: Running | undefined;
  private crash: unknown;

  constructor(
    private readonly settings: PoolSettings,
    onDeath: (isolate: Isolate, info: ExitInfo) => void,
  ) {
    const { isolation } = settings;
    const root = settings.serializerOptions.root;
    this.transport = startTransport(
      isolation,
      typeof root === 'string' ? root : undefined,
    );
    let started: () => void;
    let refused: (error: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      started = resolve;
      refused = reject;
    });
    let readyYet = false;
    this.exited = new Promise<void>((resolve) => {
      this.transport.onExit((info) => {
        this.alive = false;
        if (!readyYet) {
          refused(
            new IsolateStartError(
              isolation.mode,
              `it exited (code ${info.code}, signal ${info.signal}): ` +
                (info.output || 'no output'),
            ),
          );
        }
        this.settleOnExit(info);
        onDeath(this, info);
        resolve();
      });
    });
    this.transport.onMessage((message) => {
      if (message.type === 'ready') {
        readyYet = true;
        started();
      } else if (message.type === 'init-failed') {
        refused(new IsolateStartError(isolation.mode, wireText(message.error)));
        this.transport.kill();
      } else {
        this.handle(message);
      }
    });
    this.transport.send({
      type: 'init',
      serialization: settings.serialization,
      serializerOptions: settings.serializerOptions,
      preload: isolation.preload,
    });
  }

  run(job: ClaimedJob): Promise<IsolateOutcome> {
    if (!this.alive) {
      const error = new IsolateStartError(
        this.settings.isolation.mode,
        'it ended before the job could be sent to it',
      );
      return Promise.resolve({ kind: 'failed', error });
    }
    return new Promise<IsolateOutcome>((settle) => {
      const running: Running = {
        job,
        settle,
        timedOut: false,
        timer: undefined,
      };
      if (job.timeoutMs !== null) {
        // The isolate is stopped, not asked: a synchronous loop never
        // reads a message.
        running.timer = setTimeout(() => {
          running.timedOut = true;
          this.transport.kill();
        }, job.timeoutMs);
      }
      this.running = running;
      this.transport.send({
        type: 'run',
        jobId: job.id,
        format: job.format,
        payload: job.payload,
      });
    });
  }

  kill(): Promise<void> {
    if (this.alive) this.transport.kill();
    return this.exited;
  }

  private handle(message: FromIsolate): void {
    switch (message.type) {
      case 'result':
        this.finish(message);
        break;
      case 'crash':
        this.crash = fromWireError(message.error);
        break;
      case 'dag-node?':
        // Only for the job it runs: an isolate must not read other runs.
        if (message.jobId !== this.running?.job.id) break;
        this.settings
          .dagNode(message.jobId)
          .catch((error: unknown) => {
            this.settings.logger.error(
              'reading the DAG node of a job failed; it runs without context',
              {
                jobId: message.jobId,
                workerId: this.settings.workerId,
                reason: error instanceof Error ? error.message : String(error),
              },
            );
            return null;
          })
          .then((row) => {
            this.transport.send({ type: 'dag-node', jobId: message.jobId, row });
          });
        break;
    }
  }

  private finish(message: ResultMessage): void {
    const running = this.running;
    if (!running || running.job.id !== message.jobId) return;
    this.running = undefined;
    clearTimeout(running.timer);
    if (message.ok) {
      let result: unknown;
      try {
        result = message.value === null ? undefined : deserialize(message.value);
      } catch (error) {
        running.settle({
          kind: 'unloadable',
          error: new ResultEncodingError(running.job.id, String(error)),
        });
        return;
      }
      running.settle({ kind: 'done', result });
      return;
    }
    const error = fromWireError(message.error);
    if (message.stage === 'run') {
      running.settle({ kind: 'failed', error });
    } else if (message.stage === 'encode') {
      running.settle({
        kind: 'unloadable',
        error: new ResultEncodingError(running.job.id, wireText(message.error)),
      });
    } else {
      running.settle({ kind: 'unloadable', error });
    }
  }

  private settleOnExit(info: ExitInfo): void {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    clearTimeout(running.timer);
    const { job } = running;
    const mode = this.settings.isolation.mode;
    let error: unknown;
    if (running.timedOut) {
      error = new JobTimeoutError(job.id, job.timeoutMs ?? 0);
    } else if (info.outOfMemory) {
      error = new IsolateMemoryError(
        job.id,
        mode,
        this.settings.isolation.memoryLimitMb,
      );
    } else if (this.crash !== undefined) {
      error = new IsolateCrashError(job.id, mode, this.crash);
    } else {
      error = new IsolateExitError(
        job.id,
        mode,
        info.code,
        info.signal,
        info.output,
      );
    }
    running.settle({ kind: 'failed', error });
  }
}

function wireText(error: WireError): string {
  return `${error.name}: ${error.message}`;
}
