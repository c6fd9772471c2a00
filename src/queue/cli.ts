// `duckqueue stats <db>`: job counts per queue and status, and the most
// recent failures so an operator can see what went wrong. Reads the store
// directly: no serializer is loaded and no job code runs.

import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { explainArgsError } from '../cli-args.js';
import { STORE_NAMES, type StoreName } from '../store/index.js';
import { StoreLocationError } from '../store/location.js';
import { openExistingStore } from '../store/open-existing.js';
import {
  JOB_STATUSES,
  type JobRow,
  type StatusCounts,
  type Store,
} from '../store/types.js';
import { checkQueueName } from './options.js';
import { printable, printableJson } from './printable.js';

const USAGE = `usage: duckqueue stats <db> [options]

  --queue q        only this queue
  --store s        sqlite | duckdb | postgres (default sqlite)
  --failures n     also list the n most recent failed/dead jobs (default 5)
  --json           print JSON instead of a table`;

const OPTIONS = {
  queue: { type: 'string' },
  store: { type: 'string' },
  failures: { type: 'string' },
  json: { type: 'boolean' },
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
    console.error(`duckqueue stats: ${problem}\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(`duckqueue stats: expected one database argument\n${USAGE}`);
    return 2;
  }
  const failures = Number(v.failures ?? 5);
  if (!Number.isInteger(failures) || failures < 0) {
    console.error(`duckqueue stats: --failures must be a whole number >= 0`);
    return 2;
  }
  if (v.queue !== undefined) checkQueueName('--queue', v.queue);
  const storeName = v.store ?? 'sqlite';
  if (!(STORE_NAMES as readonly string[]).includes(storeName)) {
    console.error(
      `duckqueue stats: --store must be ${STORE_NAMES.join(', ')}; got ` +
        `'${storeName}'`,
    );
    return 2;
  }
  let store: Store;
  try {
    // Reading stats must not create a queue in a mistyped path or in some
    // other application's database.
    store = await openExistingStore(storeName as StoreName, positionals[0]!);
  } catch (err) {
    if (!(err instanceof StoreLocationError)) throw err;
    console.error(`duckqueue stats: ${err.message}`);
    return 1;
  }
  try {
    const now = Date.now();
    const known = await store.queues();
    if (v.queue !== undefined && !known.includes(v.queue)) {
      // Zeros alone read as "all done"; a misspelt name is likelier.
      console.error(
        `duckqueue stats: no job is stored in queue '${v.queue}' ` +
          '(none was enqueued there, or all were purged). ' +
          (known.length > 0
            ? `Queues with jobs: ${known.map(printable).join(', ')}`
            : 'This database holds no jobs at all.'),
      );
    }
    const names = v.queue !== undefined ? [v.queue] : known;
    const rows: { queue: string; counts: StatusCounts }[] = [];
    for (const queue of names) {
      rows.push({ queue, counts: await store.stats(queue, now) });
    }
    const recent: JobRow[] = [];
    if (failures > 0) {
      for (const status of ['dead', 'failed'] as const) {
        recent.push(
          ...(await store.listJobs({ status, queue: v.queue, limit: failures, now })),
        );
      }
      recent.sort((a, b) => (b.finishedAt ?? 0) - (a.finishedAt ?? 0));
      recent.splice(failures);
    }
    if (v.json) {
      // JSON escapes C0 controls itself; DEL and C1 are added here.
      console.log(
        printableJson(JSON.stringify(
          {
            queues: Object.fromEntries(rows.map((r) => [r.queue, r.counts])),
            recentFailures: recent.map((j) => ({
              id: j.id,
              queue: j.queue,
              status: j.status,
              fn: j.fnName,
              attempts: j.attempts,
              finishedAt: j.finishedAt,
              error: j.lastError && `${j.lastError.name}: ${j.lastError.message}`,
            })),
          },
          null,
          2,
        )),
      );
      return 0;
    }
    if (rows.length === 0) {
      console.log('no jobs in this database');
      return 0;
    }
    const table = new Table({ head: ['queue', ...JOB_STATUSES], style: tableStyle() });
    for (const r of rows) {
      table.push([
        printable(r.queue),
        ...JOB_STATUSES.map((s) => r.counts[s]),
      ]);
    }
    console.log(table.toString());
    if (recent.length > 0) {
      console.log('\nrecent failures (inspect with getJob(id), rerun with retry(id)):');
      // The error column wraps instead of cutting: the end of a message
      // (a path, the fix) is often the part an operator needs.
      const t = new Table({
        head: ['id', 'queue', 'status', 'fn', 'attempts', 'error'],
        colWidths: [null, null, null, null, null, ERROR_COLUMN_WIDTH],
        style: tableStyle(),
      });
      for (const j of recent) {
        const e = j.lastError ? `${j.lastError.name}: ${j.lastError.message}` : '';
        // Names and messages come from job rows: no control sequences.
        const text = wrapWords(printable(shorten(e)), ERROR_COLUMN_WIDTH - 2);
        t.push([
          j.id,
          printable(j.queue),
          j.status,
          printable(j.fnName),
          j.attempts,
          text,
        ]);
      }
      console.log(t.toString());
    }
    return 0;
  } finally {
    await store.close();
  }
}

const ERROR_COLUMN_WIDTH = 62;
/** Longer messages end in '…'; --json prints them whole. */
const ERROR_MAX_CHARS = 600;

function shorten(text: string): string {
  return text.length <= ERROR_MAX_CHARS
    ? text
    : `${text.slice(0, ERROR_MAX_CHARS - 1)}… (--json for all)`;
}

/**
 * Lines of at most `width` characters, broken between words. cli-table3
 * breaks either mid-word or, on word boundaries, cuts a word longer than
 * the column (a long path) with '…'; here only such a word is split.
 */
function wrapWords(text: string, width: number): string {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (let word of paragraph.split(/[ \t]+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length <= width) {
        line += ` ${word}`;
        continue;
      }
      if (line) lines.push(line);
      while (word.length > width) {
        lines.push(word.slice(0, width));
        word = word.slice(width);
      }
      line = word;
    }
    lines.push(line);
  }
  return lines.join('\n');
}

// Colours only for a terminal; piped output stays plain text.
function tableStyle() {
  return process.stdout.isTTY ? {} : { head: [], border: [] };
}
