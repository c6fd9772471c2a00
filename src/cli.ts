#!/usr/bin/env node
// The `duckqueue` command. Each subcommand lives next to the code it drives
// and is loaded only when asked for, so `duckqueue stats` does not pay for
// the benchmark machinery.

import { InvalidOptionError, UnknownStoreError } from './queue/errors.js';
import { SerializerOptionError } from './serialize/errors.js';
import { StoreLocationError } from './store/location.js';

type Command = {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
};

const commands: Record<string, Command> = {
  worker: {
    summary: 'worker <db> [--queue q] [--concurrency n]   run jobs',
    load: () => import('./worker/cli.js'),
  },
  stats: {
    summary: 'stats <db> [--queue q]                       job counts',
    load: () => import('./queue/cli.js'),
  },
  bench: {
    summary: 'bench [--quick] [--suite a,b] [--out dir]    run suites',
    load: () => import('./bench/cli.js'),
  },
  export: {
    summary: 'export <db> [--format f] [--out file]        jobs to Parquet/CSV',
    load: () => import('./store/export-cli.js'),
  },
  gate: {
    summary: 'gate --baseline f --current f                regression gate',
    load: () => import('./bench/gate-cli.js'),
  },
};

function usage(): string {
  const lines = Object.values(commands).map((c) => `  duckqueue ${c.summary}`);
  return ['usage:', ...lines].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`duckqueue: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  const mod = await command.load();
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // A bad flag value surfaces as an option error from the library: show
    // its message (it names the flag's option and the allowed values) and
    // exit 2 like any other usage error, without a stack trace.
    if (
      err instanceof InvalidOptionError ||
      err instanceof UnknownStoreError ||
      err instanceof SerializerOptionError
    ) {
      console.error(`duckqueue: ${err.message}`);
      process.exitCode = 2;
      return;
    }
    // A path that cannot hold the database: the message says what to fix.
    if (err instanceof StoreLocationError) {
      console.error(`duckqueue: ${err.message}`);
      process.exitCode = 1;
      return;
    }
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exitCode = 1;
  },
);
