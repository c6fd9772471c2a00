// The two kinds of isolate as one small interface: send a message, hear
// messages and the exit, kill. A thread is a worker_threads Worker; a
// process is a forked child with an 'advanced' (node:v8) IPC channel.

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';
import {
  defaultReadPaths,
  entryUrl,
  TYPESCRIPT_JOBS,
  sandboxFlags,
  sandboxLoaderUrl,
  tsxApiUrl,
  tsxLoaderUrl,
} from './launch.js';
import type { ResolvedIsolation } from './options.js';
import type { FromIsolate, ToIsolate } from './protocol.js';

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** The isolate hit its heap limit. */
  outOfMemory: boolean;
  /** The end of its stderr (processes) or the error it died of. */
  output: string;
}

export interface Transport {
  send(message: ToIsolate): void;
  onMessage(handler: (message: FromIsolate) => void): void;
  onExit(handler: (info: ExitInfo) => void): void;
  /** Stop it now; onExit handlers still run. */
  kill(): void;
}

/** stderr kept per child process, to explain a crash. */
const OUTPUT_TAIL_CHARS = 4_000;
const OOM_TEXT = /heap out of memory|Reached heap limit|ERR_WORKER_OUT_OF_MEMORY/;
/** The first line V8 prints when a heap runs out. */
const V8_DUMP_START = '<--- Last few GCs --->';

export function startTransport(
  isolation: ResolvedIsolation,
  serializerRoot: string | undefined,
): Transport {
  return isolation.mode === 'thread'
    ? threadTransport(isolation)
    : processTransport(isolation, serializerRoot);
}

function threadTransport(isolation: ResolvedIsolation): Transport {
  const entry = entryUrl('thread').href;
  // From sources the entry is TypeScript, and under tsx job modules may
  // be: install tsx's hooks in the thread first (hooks registered in the
  // parent do not reach it).
  const script = TYPESCRIPT_JOBS
    ? `import(${JSON.stringify(tsxApiUrl())})` +
      `.then((m) => { m.register(); return import(${JSON.stringify(entry)}); })` +
      '.catch((e) => { process.nextTick(() => { throw e; }); });'
    : new URL(entry);
  const limit = isolation.memoryLimitMb;
  // Threads inherit the process's flags unless given a list; a list is
  // passed only to drop tsx (explicit lists refuse process-wide flags).
  const argv = withoutTsx(process.execArgv);
  const options = {
    eval: TYPESCRIPT_JOBS,
    ...(argv.length !== process.execArgv.length ? { execArgv: argv } : {}),
    ...(limit !== null
      ? { resourceLimits: { maxOldGenerationSizeMb: limit } }
      : {}),
  };
  let thread: Thread;
  try {
    thread = new Thread(script, options);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') {
      throw error;
    }
    thread = new Thread(script, { ...options, execArgv: [] });
  }
  let outOfMemory = false;
  let output = '';
  thread.on('error', (error: Error & { code?: string }) => {
    if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') outOfMemory = true;
    output = `${error.name}: ${error.message}`;
  });
  return {
    send: (message) => thread.postMessage(message),
    onMessage: (handler) => thread.on('message', handler),
    onExit: (handler) =>
      thread.on('exit', (code) =>
        handler({ code, signal: null, outOfMemory, output }),
      ),
    kill: () => void thread.terminate(),
  };
}

function processTransport(
  isolation: ResolvedIsolation,
  serializerRoot: string | undefined,
): Transport {
  const execArgv: string[] = [];
  if (TYPESCRIPT_JOBS) {
    const loader = isolation.sandbox ? sandboxLoaderUrl() : tsxLoaderUrl();
    execArgv.push('--import', loader);
  }
  if (isolation.memoryLimitMb !== null) {
    execArgv.push(`--max-old-space-size=${isolation.memoryLimitMb}`);
  }
  if (isolation.sandbox) {
    const reads = defaultReadPaths(serializerRoot);
    execArgv.push(...sandboxFlags(isolation.sandbox, reads));
  }
  const child: ChildProcess = fork(fileURLToPath(entryUrl('process')), [], {
    execArgv,
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  let tail = '';
  // V8's out-of-memory report (GC trace, native stack) is held back: the
  // worker logs the failure as IsolateMemoryError with its last lines, and
  // the dump would bury that. Anything else the job writes is passed on.
  let held = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    tail = (tail + text).slice(-OUTPUT_TAIL_CHARS);
    if (held === '') {
      const at = text.indexOf(V8_DUMP_START);
      if (at < 0) {
        process.stderr.write(chunk);
        return;
      }
      process.stderr.write(text.slice(0, at));
      held = text.slice(at);
    } else {
      held = (held + text).slice(-OUTPUT_TAIL_CHARS);
    }
  });
  // Sending to a child that just died fails; its exit is reported anyway.
  child.on('error', () => {});
  const exited = new Promise<ExitInfo>((resolve) => {
    child.on('exit', (code, signal) => {
      // Let the last stderr chunk arrive before reading the tail.
      child.stderr!.once('end', () => done());
      const timer = setTimeout(done, 100);
      function done() {
        clearTimeout(timer);
        const outOfMemory = OOM_TEXT.test(tail);
        if (!outOfMemory) process.stderr.write(held);
        resolve({
          code,
          signal,
          outOfMemory,
          output: lastLines(tail, outOfMemory),
        });
      }
      if (child.stderr!.readableEnded) done();
    });
  });
  return {
    send: (message) => {
      if (child.connected) child.send(message);
    },
    onMessage: (handler) =>
      child.on('message', (message) => handler(message as FromIsolate)),
    onExit: (handler) => void exited.then(handler),
    kill: () => void child.kill('SIGKILL'),
  };
}

// Threads from sources get tsx through its API; an inherited `--import
// tsx` would register the hooks twice.
function withoutTsx(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (/^--(import|loader|experimental-loader)=.*tsx/.test(arg)) continue;
    if (/^--(import|loader|experimental-loader)$/.test(arg)) {
      if (/tsx/.test(argv[i + 1] ?? '')) {
        i++;
        continue;
      }
    }
    out.push(arg);
  }
  return out;
}

// What to quote from a dead child's stderr: its last lines, or for an
// out-of-memory death V8's one line that says so (the rest is a dump).
function lastLines(tail: string, outOfMemory: boolean): string {
  const lines = tail.trim().split('\n');
  if (outOfMemory) {
    const fatal = lines.find((line) => OOM_TEXT.test(line));
    if (fatal) return fatal.trim();
  }
  return lines.slice(-3).join(' | ');
}
