// Which payload formats a queue agrees to load. A row's format is written
// by whoever can write to the database, so a worker must not load a
// code-carrying 'source' payload just because a row says so: by default a
// queue loads only what its own serialization could have written.

import type { SerializationName, Serializer } from '../serialize/types.js';
import { envelopeFormatTag } from '../serialize/envelope.js';
import { PolicyViolationError } from '../serialize/errors.js';
import { InvalidOptionError } from './errors.js';

const DEFAULTS: Record<string, readonly string[]> = {
  // Registry payloads only: a 'json' queue never runs shipped code.
  json: ['json'],
  // Module references and registry names: code that is already on disk.
  v8: ['v8', 'json'],
  pickle: ['v8', 'json'],
  source: ['source', 'v8', 'json'],
  cloudpickle: ['source', 'v8', 'json'],
  auto: ['v8', 'source', 'json'],
};

/** The formats a queue loads when `acceptFormats` is not given. */
export function defaultAcceptFormats(
  serialization: SerializationName | Serializer,
): readonly string[] {
  const name =
    typeof serialization === 'string' ? serialization : serialization.name;
  return DEFAULTS[name] ?? [name];
}

export function resolveAcceptFormats(
  given: unknown,
  serialization: SerializationName | Serializer,
): readonly string[] {
  if (given === undefined) return defaultAcceptFormats(serialization);
  if (
    !Array.isArray(given) ||
    given.length === 0 ||
    !given.every((f) => typeof f === 'string' && f.length > 0)
  ) {
    throw new InvalidOptionError(
      'acceptFormats',
      "expected a non-empty array of format names such as ['v8', 'json']",
    );
  }
  return [...given];
}

/** Refuse a payload whose format this queue does not load. */
export function assertAcceptedFormat(
  format: string,
  accepted: readonly string[],
): void {
  if (accepted.includes(format)) return;
  throw new PolicyViolationError(
    `this queue does not load '${format}' payloads (it loads ` +
      `${accepted.map((f) => `'${f}'`).join(', ')}). The row was not ` +
      `written by this queue's serializer, or the queue's serialization ` +
      `changed; add '${format}' to the acceptFormats option only if you ` +
      `trust every writer of the database.`,
  );
}

/**
 * Refuse a row whose payload is in another format than its format column
 * says. Only a hand-written row can disagree with itself; trusting the
 * column would let a code-carrying payload past acceptFormats whenever the
 * loader reads several formats (auto, or a Serializer instance).
 */
export function assertPayloadMatchesRow(job: {
  id: string;
  format: string;
  payload: Uint8Array;
}): void {
  // Runs for every job: compare bytes first, build the tag only to refuse.
  if (payloadTagIs(job.payload, job.format)) return;
  const tag = envelopeFormatTag(job.payload);
  // Not an envelope at all: the loader refuses it with its own error.
  if (tag === undefined || tag === job.format) return;
  throw new PolicyViolationError(
    `job ${job.id}: its row says format '${job.format}' but its payload ` +
      `is '${tag}'. A producer never writes such a row; someone wrote it ` +
      'to the database by hand. Inspect it (inspectPayload) before ' +
      'enqueueing the job again.',
  );
}

// The envelope's tag sits at a fixed place: byte 6 is its length, the
// ASCII tag follows.
function payloadTagIs(payload: Uint8Array, format: string): boolean {
  if (!(payload instanceof Uint8Array) || payload[6] !== format.length) {
    return false;
  }
  for (let i = 0; i < format.length; i++) {
    if (payload[7 + i] !== format.charCodeAt(i)) return false;
  }
  return true;
}
