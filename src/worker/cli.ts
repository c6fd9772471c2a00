// `duckqueue worker <db>`: run jobs until SIGTERM/SIGINT (or until the
// queues are empty with --until-empty), logging each start, failure and
// stop for an operator.

import { existsSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { explainArgsError } from '../cli-args.js';
import { DuckQueue } from '../queue/queue.js';
import { consoleLogger, type LogLevel } from '../queue/logger.js';
import { checkQueueName, resolveQueueOptions } from '../queue/options.js';
import { createSerializer } from '../serialize/index.js';
import type { PolicyOptions } from '../serialize/policy.js';
import type { SerializationName } from '../serialize/types.js';
import { NotAQueueError } from '../store/location.js';
import { checkSqliteQueue } from '../store/open-existing.js';
import type { IsolationMode } from './isolation/options.js';
import {
  MAX_QUEUE_WEIGHT,
  resolveWorkerOptions,
  type WorkerOptions,
} from './options.js';
import {
  UNSERVED_MIN_CHECK_MS,
  UnservedQueueWatch,
} from './unserved-queues.js';
import { Worker } from './worker.js';

const USAGE = `usage: duckqueue worker <db> [options]

  --queue q[:weight]     queue to take jobs from; repeat for several
                         (default: 'default'; e.g. --queue high:3 --queue low:1)
  --concurrency n        jobs run at once (default 1)
  --poll-ms n            wait between polls when idle (default 200)
  --serialization s      auto | v8 | json | source (default auto)
  --root dir             directory job modules are found relative to; give
                         the producer's root (default: working directory)
  --store s              sqlite | duckdb | postgres (default sqlite)
  --grace-ms n           on SIGTERM, time running jobs get to finish
                         (default 10000); a second signal stops at once
  --visibility-ms n      claim lapse time for dead workers (default 30000)
  --import module        load a module first (e.g. one that calls
                         registerTask); repeat for several
  --isolation i          none | thread | process: where jobs run
                         (default none: in this process)
  --memory-limit-mb n    heap limit per thread or process isolate
  --allow-module spec    only run functions from modules matching spec
                         (a specifier, path or glob); repeat for several
  --strict               refuse source payloads (only by-reference and
                         registered functions run)
  --create               create the database file if it does not exist
                         (otherwise a missing file is an error)
  --until-empty          exit when no job is pending or running
  --log-level l          debug | info | warn | error (default info)

Jobs waiting in a queue the worker does not serve are reported with a
warning when it is idle, at most every few minutes per queue.

The signing key, if any, comes from the DUCKQUEUE_SIGNING_KEY environment
variable; with it set, unsigned or altered jobs fail instead of running.`;

const OPTIONS = {
  queue: { type: 'string', multiple: true },
  concurrency: { type: 'string' },
  'poll-ms': { type: 'string' },
  serialization: { type: 'string' },
  root: { type: 'string' },
  store: { type: 'string' },
  'grace-ms': { type: 'string' },
  'visibility-ms': { type: 'string' },
  import: { type: 'string', multiple: true },
  isolation: { type: 'string' },
  'memory-limit-mb': { type: 'string' },
  'allow-module': { type: 'string', multiple: true },
  strict: { type: 'boolean' },
  create: { type: 'boolean' },
  'until-empty': { type: 'boolean' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: OPTIONS,
    });
  } catch (err) {
    const problem = explainArgsError(err, argv, OPTIONS);
    console.error(`duckqueue worker: ${problem}\n${USAGE}`);
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
  const numberFlags = [
    'concurrency',
    'poll-ms',
    'grace-ms',
    'visibility-ms',
    'memory-limit-mb',
  ] as const;
  for (const name of numberFlags) {
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
    const parsedQueue = parseQueueFlag(spec);
    if (typeof parsedQueue === 'string') {
      console.error(`duckqueue worker: ${parsedQueue}`);
      return 2;
    }
    const [name, weight] = parsedQueue;
    queues ??= {};
    if (name in queues) {
      console.error(`duckqueue worker: --queue ${name} is given twice`);
      return 2;
    }
    queues[name] = weight;
  }
  let root: string | undefined;
  if (v.root !== undefined) {
    root = resolve(v.root);
    if (!existsSync(root) || !statSync(root).isDirectory()) {
      console.error(
        `duckqueue worker: --root ${v.root}: no such directory. Give the ` +
          'directory the producer ran from (its root option).',
      );
      return 2;
    }
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

  const workerOptions: WorkerOptions = {
    concurrency: numbers.concurrency,
    pollMs: numbers['poll-ms'],
    graceMs: numbers['grace-ms'],
    queues,
    handleSignals: true,
    logger: log,
    ...(v.isolation !== undefined
      ? { isolation: v.isolation as IsolationMode }
      : {}),
    ...(numbers['memory-limit-mb'] !== undefined
      ? { memoryLimitMb: numbers['memory-limit-mb'] }
      : {}),
  };
  // Bad flag values are usage errors (exit 2) whether or not the file
  // exists: check them before looking at the database.
  resolveWorkerOptions(workerOptions, {
    queue: 'default',
    logger: log,
    visibilityTimeoutMs: numbers['visibility-ms'] ?? 30_000,
  });
  const policy: PolicyOptions = {};
  if (v['allow-module']) policy.allowModules = v['allow-module'];
  if (v.strict) policy.strict = true;
  const store = v.store ?? 'sqlite';
  const queueOptions = {
    serialization: (v.serialization ?? 'auto') as SerializationName,
    store,
    visibilityTimeoutMs: numbers['visibility-ms'],
    logger: log,
    ...(root !== undefined ? { serializerOptions: { root } } : {}),
    ...(Object.keys(policy).length > 0 ? { policy } : {}),
  };
  // The serializer name, --root, the policy flags and the signing key in
  // the environment are checked the same way: by building a serializer.
  const resolved = resolveQueueOptions(queueOptions);
  createSerializer(queueOptions.serialization, resolved.serializerOptions);

  const db = positionals[0]!;
  if (store !== 'postgres' && !v.create && !existsSync(db)) {
    console.error(
      `duckqueue worker: no database at ${db}. Check the path (a worker ` +
        'on a wrong path would wait forever on an empty queue), or pass ' +
        '--create to start on a new, empty database.',
    );
    return 1;
  }
  // A worker must not quietly add its tables to another application's
  // database, nor fail with a driver stack on a directory.
  if (store === 'sqlite' && existsSync(db) && !isEmptyFile(db)) {
    try {
      checkSqliteQueue(db);
    } catch (err) {
      if (!(err instanceof NotAQueueError)) throw err;
      if (!(v.create && err.found === 'no-queue')) {
        console.error(
          `duckqueue worker: ${err.message}` +
            (err.found === 'no-queue'
              ? '. Pass --create to add a job queue to this database.'
              : ''),
        );
        return 1;
      }
    }
  }
  const q = await DuckQueue.open(db, queueOptions);
  q.on('recovered', (r) =>
    log.warn('took back jobs whose worker stopped reporting', {
      requeued: r.requeued,
      dead: r.dead,
    }),
  );
  q.on('slowSerialization', (e) => log.warn('slow serialization', { event: e }));
  const worker = new Worker(q, workerOptions);
  log.info('opened queue database', {
    db,
    store: q.store.name,
    serialization: q.serializer.name,
  });
  const watch = new UnservedQueueWatch(q, {
    served: worker.options.weights.keys(),
    logger: log,
  });
  worker.on('idle', () => void watch.check());
  // 'idle' comes once per idle spell: a worker idle since it started would
  // never look again, so look now and then while nothing runs.
  const recheck = setInterval(() => {
    if (worker.runningCount === 0) void watch.check();
  }, UNSERVED_MIN_CHECK_MS);
  recheck.unref();
  const untilEmpty = v['until-empty'] === true;
  const summary = await worker.run({ untilEmpty });
  clearInterval(recheck);
  // Leaving: one last look (queues warned about lately stay quiet), and
  // the store stays open until it is done.
  await watch.check({ force: untilEmpty });
  await q.close();
  if (summary.released > 0) {
    // A released job may still be running (a hung promise); do not let it
    // keep the process alive after the store is closed.
    setTimeout(() => process.exit(), 1000).unref();
  }
  return 0;
}

/**
 * `--queue name[:weight]` as [name, weight], or what is wrong with it. The
 * weight follows the last ':', so a name that has ':' in it needs one.
 */
function parseQueueFlag(spec: string): [string, number] | string {
  const colon = spec.lastIndexOf(':');
  if (colon < 0) return [checkQueueName(`--queue ${spec}`, spec), 1];
  const name = spec.slice(0, colon);
  const weight = spec.slice(colon + 1);
  const n = /^[0-9]+$/.test(weight) ? Number(weight) : NaN;
  if (!(n >= 1 && n <= MAX_QUEUE_WEIGHT)) {
    const problem =
      `--queue ${spec}: the weight after the last ':' must be a whole ` +
      `number from 1 to ${MAX_QUEUE_WEIGHT}, got '${weight}' (e.g. ` +
      `--queue ${name || 'mail'}:3)`;
    return /^[0-9]+$/.test(weight)
      ? problem
      : `${problem}. A queue whose name contains ':' takes a weight ` +
          `too: --queue ${spec}:1`;
  }
  return [checkQueueName(`--queue ${spec}`, name), n];
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

function isEmptyFile(file: string): boolean {
  const stat = statSync(file);
  return stat.isFile() && stat.size === 0;
}
