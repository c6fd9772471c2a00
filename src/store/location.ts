// File stores open a path inside an existing directory. A missing
// directory is nearly always a typo or a wrong working directory, and
// creating it would leave a worker polling an empty database of its own.

import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Raised when a store's file cannot be where the path says. */
export class StoreLocationError extends Error {
  readonly code = 'STORE_LOCATION';
  readonly location: string;
  constructor(location: string, message: string) {
    super(message);
    this.name = 'StoreLocationError';
    this.location = location;
  }
}

/** Throws StoreLocationError unless `location`'s directory exists. */
export function checkStoreDirectory(location: string, store: string): void {
  const dir = dirname(resolve(location));
  if (!existsSync(dir)) {
    throw new StoreLocationError(
      location,
      `cannot open the ${store} database '${location}': the directory ` +
        `${dir} does not exist. Check the path, or create the directory ` +
        'first; duckqueue does not create directories.',
    );
  }
  if (!statSync(dir).isDirectory()) {
    throw new StoreLocationError(
      location,
      `cannot open the ${store} database '${location}': ${dir} is not a ` +
        'directory',
    );
  }
}

/** Raised for a database that holds no job queue (nothing was created). */
export class NotAQueueError extends StoreLocationError {
  override readonly name = 'NotAQueueError';
  constructor(
    location: string,
    message: string,
    /** 'no-queue': a database without queue tables; else not a database. */
    readonly found: 'no-queue' | 'not-a-database' = 'no-queue',
  ) {
    super(location, message);
  }
}
