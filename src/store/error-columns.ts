// The last error of a job as SQL stores keep it: four columns, all null
// when the job has not failed.

import type { ErrorRow } from './types.js';

export interface ErrorColumns {
  error_name: string | null;
  error_message: string | null;
  error_stack: string | null;
  error_value: Uint8Array | null;
}

export function errorFromColumns(r: ErrorColumns): ErrorRow | null {
  if (r.error_name === null) return null;
  return {
    name: r.error_name,
    message: r.error_message ?? '',
    stack: r.error_stack,
    value: r.error_value,
  };
}
