#!/usr/bin/env node
// The `duckqueue` command. Each subcommand lives next to the code it drives
// and is loaded only when asked for, so `duckqueue stats` does not pay for
// the benchmark machinery.

import { InvalidOptionError, UnknownStoreError } from './queue/errors.js';
import {
  SerializerOptionError,
  UnknownSerializerError,
} from './serialize/errors.js';
import { SigningKeyError } from './serialize/signing.js';
import { StoreFileError, StoreLockedError } from './store/duckdb/errors.js';
import { StoreLocationError } from './store/location.js';
import { IsolateStartError } from './worker/isolation/errors.js';
import {
  PostgresConnectError,
  PostgresDriverMissingError,
  PostgresOptionError,
} from './store/postgres/errors.js';

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

type ErrorClass = abstract new (...args: never[]) => Error;

// A flag, option or environment variable set wrong. The message names the
// value and the fix, so it is shown alone and the exit code is 2, like any
// other usage error.
const USAGE_ERRORS: ErrorClass[] = [
  InvalidOptionError,
  UnknownStoreError,
  SerializerOptionError,
  UnknownSerializerError,
  SigningKeyError,
  PostgresOptionError,
];

// The database cannot be reached or opened where the arguments say. The
// message says what to fix; a stack trace would only hide it.
const SETUP_ERRORS: ErrorClass[] = [
  IsolateStartError,
  StoreLocationError,
  StoreFileError,
  StoreLockedError,
  PostgresConnectError,
  PostgresDriverMissingError,
];

/** The one line shown for an error of a class above. */
function oneLine(err: Error): string {
  // The command takes its signing key only from the environment: say so,
  // or the operator looks for a flag that does not exist.
  const env = 'DUCKQUEUE_SIGNING_KEY';
  if (err instanceof SigningKeyError && process.env[env]) {
    return `duckqueue: ${env}: ${err.message}`;
  }
  return `duckqueue: ${err.message}`;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    for (const [classes, code] of [
      [USAGE_ERRORS, 2],
      [SETUP_ERRORS, 1],
    ] as const) {
      if (classes.some((c) => err instanceof c)) {
        console.error(oneLine(err as Error));
        process.exitCode = code;
        return;
      }
    }
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exitCode = 1;
  },
);
