// PostgreSQL rows of the storage suite: the same workloads as the other
// stores, through the PostgreSQL store, on the server DUCKQUEUE_PG_URL
// names (scripts/pg-test-cluster.sh start makes a throwaway one). Each
// round gets a fresh schema, dropped afterwards. Without a server the
// section says how to get the rows.

import { randomBytes } from 'node:crypto';
import { openStore } from '../../src/store/postgres.js';
import { redact } from '../../src/store/postgres/options.js';
import { storeDriver, type Backend, type QueueDriver } from './drivers.js';
import {
  timeRound,
  workloads,
  type JobSource,
  type WorkloadSizes,
} from './workloads.js';

const PG_URL_ENV = 'DUCKQUEUE_PG_URL';

export interface PostgresRates {
  /** Where it ran, without credentials, e.g. 'postgres@127.0.0.1:5432/db'. */
  server: string;
  rounds: number;
  rates: { workload: string; jobsPerSec: number; samples: number[] }[];
  /** Jobs per round, per workload id. */
  sizes: Record<string, number>;
}

function postgresBackend(url: string): Backend {
  const open = async (): Promise<QueueDriver> => {
    const schema = `bench_${randomBytes(5).toString('hex')}`;
    const store = await openStore(url, { schema });
    const driver = storeDriver(store);
    return {
      ...driver,
      async close() {
        await store.pool
          .query(`DROP SCHEMA ${schema} CASCADE`)
          .catch(() => undefined);
        await store.close();
      },
    };
  };
  return {
    name: 'postgres',
    fileName: 'unused',
    files: () => [],
    openStore: open,
    openRaw: open,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Time every workload through the PostgreSQL store, `rounds` times each,
 * or return why it was not measured.
 */
export async function measurePostgres(
  sizes: WorkloadSizes,
  rounds: number,
  jobs: JobSource,
  progress: (task: string) => void,
): Promise<string | PostgresRates> {
  const url = process.env[PG_URL_ENV];
  if (!url) {
    return (
      `not measured: no server. Set ${PG_URL_ENV} to a PostgreSQL ` +
      'connection string (a throwaway local one: `export ' +
      `${PG_URL_ENV}="$(bash scripts/pg-test-cluster.sh start)"\`).`
    );
  }
  const backend = postgresBackend(url);
  const result: PostgresRates = {
    server: redact(url),
    rounds,
    rates: [],
    sizes: {},
  };
  try {
    for (const w of workloads(jobs)) {
      progress(`postgres ${w.id}`);
      const samples: number[] = [];
      for (let r = 0; r < rounds; r++) {
        samples.push(
          await timeRound(backend, backend.openStore, w, sizes, jobs, (f) => f),
        );
      }
      result.rates.push({ workload: w.id, jobsPerSec: median(samples), samples });
      result.sizes[w.id] = w.units(sizes);
    }
  } catch (err) {
    return `not measured: the PostgreSQL rows failed (${String(err)}).`;
  }
  return result;
}
