// Payload headers that depend only on a few strings (a function name, a
// task name) are made once and shared, frozen: the envelope writer then
// encodes each once and the policy checks each once (both remember frozen
// headers).

import type { PayloadMeta } from './types.js';

const LIMIT = 1024;
const headers = new Map<string, PayloadMeta>();

/** The frozen header for `fields`, made on first use. */
export function sharedHeader(fields: PayloadMeta): PayloadMeta {
  const key = JSON.stringify(fields);
  let header = headers.get(key);
  if (!header) {
    header = Object.freeze({ ...fields });
    if (headers.size >= LIMIT) headers.clear();
    headers.set(key, header);
  }
  return header;
}
