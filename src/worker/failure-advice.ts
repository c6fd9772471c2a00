// What an operator should do about a job that failed before it could run.
// The worker logs this beside the error, so it must fit the cause: a
// missing module, a refused signature and a planted bad row need
// different hands.

import { InvalidJobRowError, ResultEncodingError } from '../queue/errors.js';
import {
  PolicyViolationError,
  UnknownTaskError,
} from '../serialize/errors.js';
import { SignatureError } from '../serialize/signing.js';

/** What went wrong, in a few words, for "job failed: <what>". */
export function unloadableWhat(err: unknown): string {
  if (err instanceof ResultEncodingError) return 'its result cannot be stored';
  if (err instanceof InvalidJobRowError) {
    return `its row holds an invalid ${err.field}`;
  }
  if (err instanceof PolicyViolationError) return 'the load policy refused it';
  return 'its payload cannot be loaded';
}

/** The fix to log with it. */
export function unloadableFix(err: unknown): string {
  if (err instanceof ResultEncodingError) {
    return 'return plain data (what node:v8 can clone) from the job, then ' +
      'retry it';
  }
  if (err instanceof InvalidJobRowError) {
    return `enqueue the job again with a valid ${err.field}`;
  }
  if (err instanceof SignatureError) {
    return 'give producer and worker the same signing key (or list the ' +
      'old one in verifyKeys); a job nobody signed was not written by a ' +
      'producer of this queue: inspect it before retrying';
  }
  if (err instanceof PolicyViolationError) {
    return 'if the job is legitimate, allow it in the worker policy ' +
      '(allowModules, strict, acceptFormats), then retry it';
  }
  if (err instanceof UnknownTaskError) {
    return `register task '${err.taskName}' in the worker (for the ` +
      'command: --import the module that calls registerTask), then retry it';
  }
  return 'deploy the job module or re-enqueue the job, then retry it';
}
