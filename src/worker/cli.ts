// `duckqueue worker <db>`: run jobs until SIGTERM/SIGINT (or until the
// queues are empty with --until-empty), logging each start, failure and
// stop for an operator.

import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { DuckQueue } from '../queue/queue.js';
import { consoleLogger, type LogLevel } from '../queue/logger.js';
import { Worker } from './worker.js';

const USAGE = `usage: duckqueue worker <db> [options]

  --queue q[:weight]     queue to take jobs from; repeat for several
                         (default: 'default'; e.g. --queue high:3 --queue low:1)
  --concurrency n        jobs run at once (default 1)
  --poll-ms n            wait between polls when idle (default 200)
  --serialization s      auto | v8 | json | source (default auto)
  --store s              sqlite | duckdb | postgres (default sqlite)
  --grace-ms n           on SIGTERM, time running jobs get to finish
                         (default 10000); a second signal stops at once
  --visibility-ms n      claim lapse time for dead workers (default 30000)
  --import module        load a module first (e.g. one that calls
                         registerTask); repeat for several
  --until-empty          exit when no job is pending or running
  --log-level l          debug | info | warn | error (default info)`;

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        queue: { type: 'string', multiple: true },
        concurrency: { type: 'string' },
        'poll-ms': { type: 'string' },
        serialization: { type: 'string' },
        store: { type: 'string' },
        'grace-ms': { type: 'string' },
        'visibility-ms': { type: 'string' },
        import: { type: 'string', multiple: true },
        'until-empty': { type: 'boolean' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    console.error(`duckqueue worker: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(`duckqueue worker: expected one database argument\n${USAGE}`);
    return 2;
  }
  const level = (v['log-level'] ?? 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(level)) {
    console.error(`duckqueue worker: --log-level must be debug, info, warn or error`);
    return 2;
  }
  const log = consoleLogger('worker', level);
  const numbers: Record<string, number | undefined> = {};
  for (const name of ['concurrency', 'poll-ms', 'grace-ms', 'visibility-ms'] as const) {
    const raw = v[name];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) {
      console.error(`duckqueue worker: --${name} must be a number, got '${raw}'`);
      return 2;
    }
    numbers[name] = n;
  }
  let queues: Record<string, number> | undefined;
  for (const spec of v.queue ?? []) {
    const m = /^(.+?)(?::(\d+))?$/.exec(spec)!;
    queues ??= {};
    queues[m[1]!] = m[2] === undefined ? 1 : Number(m[2]);
  }

  await registerTypeScriptLoader(log);
  for (const spec of v.import ?? []) {
    const url = /^[./]/.test(spec) ? pathToFileURL(resolve(spec)).href : spec;
    try {
      await import(url);
    } catch (err) {
      log.error(`cannot import --import ${spec}`, { reason: String(err) });
      return 1;
    }
  }

  const db = positionals[0]!;
  const q = await DuckQueue.open(db, {
    serialization: v.serialization ?? 'auto',
    store: v.store ?? 'sqlite',
    visibilityTimeoutMs: numbers['visibility-ms'],
    logger: log,
  });
  q.on('recovered', (r) =>
    log.warn('took back jobs whose worker stopped reporting', {
      requeued: r.requeued,
      dead: r.dead,
    }),
  );
  q.on('slowSerialization', (e) => log.warn('slow serialization', { event: e }));
  const worker = new Worker(q, {
    concurrency: numbers.concurrency,
    pollMs: numbers['poll-ms'],
    graceMs: numbers['grace-ms'],
    queues,
    handleSignals: true,
    logger: log,
  });
  log.info('opened queue database', {
    db,
    store: q.store.name,
    serialization: q.serializer.name,
  });
  const untilEmpty = v['until-empty'] === true;
  const summary = await worker.run({ untilEmpty });
  if (untilEmpty) await warnAboutUnservedQueues(q, queues ?? { default: 1 }, log);
  await q.close();
  if (summary.released > 0) {
    // A released job may still be running (a hung promise); do not let it
    // keep the process alive after the store is closed.
    setTimeout(() => process.exit(), 1000).unref();
  }
  return 0;
}

/** After --until-empty: jobs still waiting in queues this worker skipped. */
async function warnAboutUnservedQueues(
  q: DuckQueue,
  served: Record<string, number>,
  log: ReturnType<typeof consoleLogger>,
): Promise<void> {
  for (const name of await q.queues()) {
    if (name in served) continue;
    const { pending, delayed } = await q.stats(name);
    if (pending + delayed === 0) continue;
    log.warn('jobs are waiting in a queue this worker does not serve', {
      queue: name,
      pending,
      delayed,
      fix: `add --queue ${name} to run them`,
    });
  }
}

/** Lets --import and by-reference jobs load .ts modules when tsx is present. */
async function registerTypeScriptLoader(log: ReturnType<typeof consoleLogger>) {
  // Already running under tsx (source checkout): nothing to do.
  if (import.meta.url.endsWith('.ts')) return;
  try {
    const api = (await import('tsx/esm/api')) as { register(): unknown };
    api.register();
  } catch {
    log.debug('tsx not available: job modules must be JavaScript');
  }
}
