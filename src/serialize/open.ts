// The single door every payload passes through on its way in. All
// deserialize() calls, for every backend, open bytes here, so checks on
// untrusted input (envelope validity, accepted formats, and the signature,
// size and allow-list policies) live in exactly one place.

import { decodeEnvelope, type OpenedEnvelope } from './envelope.js';
import { DeserializationError } from './errors.js';
import type { ResolvedSerializerOptions } from './options.js';

export interface OpenRequest {
  /** Name of the serializer asking, for error messages. */
  serializer: string;
  /** Formats the asking backend can load. */
  reads: readonly string[];
  options: ResolvedSerializerOptions;
}

export function openPayload(
  bytes: Uint8Array,
  request: OpenRequest,
): OpenedEnvelope {
  const { policy } = request.options;
  // Size and signature first: nothing inside is parsed before they pass.
  policy.checkRaw(bytes);
  const envelope = decodeEnvelope(bytes);
  if (!request.reads.includes(envelope.format)) {
    throw new DeserializationError(
      `payload is in format '${envelope.format}' but serializer ` +
        `'${request.serializer}' reads only ` +
        `${request.reads.map((f) => `'${f}'`).join(', ')}. Load it with ` +
        `createSerializer('${envelope.format}') if you trust its source.`,
    );
  }
  policy.checkOpened(envelope);
  return envelope;
}
