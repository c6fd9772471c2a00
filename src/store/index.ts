// Opens a store by name. Each backend lives in src/store/<name>.ts and
// exports `openStore(location, options)`.

import { UnknownStoreError } from '../queue/errors.js';
import type { OpenStore, Store, StoreOptions } from './types.js';
import { checkStoreOptions } from './options.js';

/** Backends this package ships. */
export const STORE_NAMES = ['sqlite', 'duckdb', 'postgres'] as const;
export type StoreName = (typeof STORE_NAMES)[number];

// Imported on first use only, so a SQLite user never loads the DuckDB or
// PostgreSQL driver.
const STORE_MODULES: Record<StoreName, () => Promise<{ openStore?: OpenStore }>> = {
  sqlite: () => import('./sqlite.js'),
  duckdb: () => import('./duckdb.js') as Promise<{ openStore?: OpenStore }>,
  postgres: () => import('./postgres.js') as Promise<{ openStore?: OpenStore }>,
};

export function isStore(value: unknown): value is Store {
  const s = value as Store | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.claim === 'function' &&
    typeof s.enqueue === 'function' &&
    typeof s.migrate === 'function'
  );
}

/** Open and migrate the store called `name` at `location`. */
export async function openStore(
  name: string,
  location: string,
  options: StoreOptions = {},
): Promise<Store> {
  if (!(STORE_NAMES as readonly string[]).includes(name)) {
    throw new UnknownStoreError(name, 'no such backend', STORE_NAMES);
  }
  checkStoreOptions(name, options);
  let mod: { openStore?: OpenStore };
  try {
    mod = await STORE_MODULES[name as StoreName]();
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String(err).includes(`${name}.`)) {
      throw new UnknownStoreError(name, 'its module is not installed', STORE_NAMES);
    }
    throw err;
  }
  if (typeof mod.openStore !== 'function') {
    throw new UnknownStoreError(name, 'its module exports no openStore()', STORE_NAMES);
  }
  return mod.openStore(location, options);
}
