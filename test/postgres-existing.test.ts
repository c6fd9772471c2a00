// Readers (`duckqueue stats`, `export`) open PostgreSQL with existingOnly:
// a schema without a queue is refused and nothing is created in it.

import { describe, expect, it } from 'vitest';
import { openStore } from '../src/store/postgres.js';
import { NotAQueueError } from '../src/store/location.js';
import {
  dropSchema,
  PG_URL,
  requireUrl,
  uniqueSchema,
  withClient,
} from './helpers/postgres.js';

describe.skipIf(!PG_URL)('postgres: opening existing queues only', () => {
  it('refuses a schema without a queue and creates nothing', async () => {
    const schema = uniqueSchema('absent');
    await expect(
      openStore(requireUrl(), { schema, existingOnly: true }),
    ).rejects.toThrow(NotAQueueError);
    const found = await withClient((c) =>
      c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]),
    );
    expect(found.rowCount).toBe(0);
  });

  it('opens a schema that already holds a queue', async () => {
    const schema = uniqueSchema('present');
    try {
      await (await openStore(requireUrl(), { schema })).close();
      const store = await openStore(requireUrl(), { schema, existingOnly: true });
      expect(await store.queues()).toEqual([]);
      await store.close();
    } finally {
      await dropSchema(schema);
    }
  });
});
