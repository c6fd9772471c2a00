// Which suites exist. Every `suites/<name>.ts` file is a suite, so adding
// one is adding one file. The list below only fixes the order of the known
// suites in runs and reports, and names the ones expected later so the
// index can say "not available yet" instead of leaving a silent gap.

import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './paths.js';
import { SUITES_DIR_ENV } from './settings.js';

export interface KnownSuite {
  name: string;
  title: string;
  /** What the suite answers, one line for the index. */
  summary: string;
}

export const KNOWN_SUITES: readonly KnownSuite[] = [
  {
    name: 'size',
    title: 'Payload size',
    summary: 'bytes per backend for each function shape and real payloads',
  },
  {
    name: 'speed',
    title: 'Serialization speed',
    summary: 'serialize/deserialize time per backend, peers and data formats',
  },
  {
    name: 'capability',
    title: 'Capability matrix',
    summary: 'which function shapes each backend carries, refuses or breaks',
  },
  {
    name: 'queue',
    title: 'Queue throughput',
    summary: 'end-to-end jobs/s per store and mode against raw SQLite',
  },
  {
    name: 'python-reference',
    title: 'Python reference',
    summary: 'pickle vs cloudpickle measured here, beside our backends',
  },
  {
    name: 'storage',
    title: 'Storage',
    summary: 'enqueue, claim and bytes on disk per store',
  },
  {
    name: 'security',
    title: 'Security',
    summary: 'what each backend lets a payload do on load',
  },
];

export interface SuiteEntry {
  name: string;
  title: string;
  file: string;
}

export class UnknownSuiteError extends Error {
  constructor(names: string[], available: string[]) {
    super(
      `unknown suite${names.length > 1 ? 's' : ''} ${names
        .map((n) => `'${n}'`)
        .join(', ')}; available: ${available.join(', ')} ` +
        '(a suite is a file suites/<name>.ts)',
    );
    this.name = 'UnknownSuiteError';
  }
}


/** The project's suites/ folder, or the one named by the environment. */
export function suitesDir(): string {
  const override = process.env[SUITES_DIR_ENV];
  if (override) return path.resolve(override);
  return path.join(PROJECT_ROOT, 'suites');
}

export function titleFor(name: string): string {
  return KNOWN_SUITES.find((s) => s.name === name)?.title ?? name;
}

/** Suites present on disk: known ones in their order, then the rest. */
export function discoverSuites(dir = suitesDir()): SuiteEntry[] {
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -3));
  const rank = (name: string): number => {
    const i = KNOWN_SUITES.findIndex((s) => s.name === name);
    return i === -1 ? KNOWN_SUITES.length : i;
  };
  names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return names.map((name) => ({
    name,
    title: titleFor(name),
    file: path.join(dir, `${name}.ts`),
  }));
}

/** The suites to run for a `--suite a,b` list (all when empty). */
export function selectSuites(
  requested: string[],
  dir = suitesDir(),
): SuiteEntry[] {
  const all = discoverSuites(dir);
  if (requested.length === 0) return all;
  const missing = requested.filter((n) => !all.some((s) => s.name === n));
  if (missing.length) {
    throw new UnknownSuiteError(
      missing,
      all.map((s) => s.name),
    );
  }
  return all.filter((s) => requested.includes(s.name));
}
