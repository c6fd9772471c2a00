// The job runner inside an isolate (a worker thread or a child process).
// It receives payload BYTES, turns them into a call with the same
// serializers the queue uses, runs it, and answers with the result as
// node:v8 bytes or the error as plain data. The payload is only ever
// decoded here, never in the supervising worker.
//
// One job at a time per isolate, so an uncaught exception or unhandled
// rejection can be pinned on the job running when it happened. One left
// behind by an earlier job (a timer still pending after it returned)
// surfaces in a later job of the same isolate or while it is idle.

import { serialize } from 'node:v8';
import { isDagContextSlot, withDagContext } from '../../dag/context.js';
import type { DagJobRow } from '../../dag/store.js';
import type { DuckQueue } from '../../queue/queue.js';
import { createSerializer } from '../../serialize/index.js';
import type { LoadedCall, Serializer } from '../../serialize/types.js';
import {
  toWireError,
  type FromIsolate,
  type InitMessage,
  type RunMessage,
  type ToIsolate,
} from './protocol.js';

/** How the runtime talks to its supervisor (parentPort or process IPC). */
export interface IsolateChannel {
  send(message: FromIsolate): Promise<void>;
  onMessage(handler: (message: ToIsolate) => void): void;
  /** End the isolate after a crash was reported. */
  exit(code: number): never;
}

/** Exit code of an isolate that ended on an uncaught error. */
export const CRASH_EXIT_CODE = 70;

export function serveJobs(channel: IsolateChannel): void {
  let init: InitMessage | undefined;
  const loaders = new Map<string, Serializer>();
  const dagWaiters = new Map<string, (row: DagJobRow | null) => void>();
  let current: string | null = null;
  let crashing = false;

  const crash = (error: unknown) => {
    if (crashing) return;
    crashing = true;
    const message = { type: 'crash', jobId: current, error: toWireError(error) };
    void channel
      .send(message as FromIsolate)
      .finally(() => channel.exit(CRASH_EXIT_CODE));
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  const loaderFor = (format: string): Serializer => {
    let loader = loaders.get(format);
    if (!loader) {
      const options = init!.serializerOptions;
      try {
        loader = createSerializer(format, options);
      } catch {
        loader = createSerializer(init!.serialization, options);
      }
      loaders.set(format, loader);
    }
    return loader;
  };

  // A DAG task's context comes from the store, which only the supervisor
  // holds: ask it for the node row and build the context from that.
  const dagQueue = {
    store: {
      dag: {
        jobNode: (jobId: string) =>
          new Promise<DagJobRow | null>((resolve) => {
            dagWaiters.set(jobId, resolve);
            void channel.send({ type: 'dag-node?', jobId });
          }),
      },
    },
  } as unknown as DuckQueue;

  const run = async (message: RunMessage): Promise<void> => {
    const { jobId } = message;
    current = jobId;
    // Each stage that can fail reports which one it was.
    const failed = (stage: 'load' | 'run' | 'encode', error: unknown) => {
      current = null;
      return channel.send({
        type: 'result',
        jobId,
        ok: false,
        stage,
        error: toWireError(error),
      });
    };
    let call: LoadedCall;
    try {
      call = await loaderFor(message.format).deserialize(message.payload);
    } catch (error) {
      return failed('load', error);
    }
    let result: unknown;
    try {
      const last = call.args[call.args.length - 1];
      const args = isDagContextSlot(last)
        ? await withDagContext(dagQueue, jobId, call.args)
        : call.args;
      result = await call.fn(...args);
    } catch (error) {
      return failed('run', error);
    }
    let value: Uint8Array | null = null;
    try {
      if (result !== undefined) value = serialize(result);
    } catch (error) {
      return failed('encode', error);
    }
    current = null;
    await channel.send({ type: 'result', jobId, ok: true, value });
  };

  const start = async (message: InitMessage): Promise<void> => {
    init = message;
    try {
      for (const specifier of message.preload) await import(specifier);
    } catch (error) {
      await channel.send({ type: 'init-failed', error: toWireError(error) });
      return;
    }
    await channel.send({ type: 'ready' });
  };

  channel.onMessage((message) => {
    switch (message.type) {
      case 'init':
        void start(message);
        break;
      case 'run':
        void run(message).catch(crash);
        break;
      case 'dag-node': {
        const resolve = dagWaiters.get(message.jobId);
        dagWaiters.delete(message.jobId);
        resolve?.(message.row);
        break;
      }
    }
  });
}
