// The binary envelope around every payload. Its header can be read without
// decoding the body or running anything, so a worker, a dashboard or a
// policy can see what a job will load before it loads it.
//
// Layout (all integers unsigned, little-endian):
//
//   offset  size  field
//   0       4     magic "DQSZ"
//   4       1     envelope version (ENVELOPE_VERSION)
//   5       1     flags (bit 0: signed; other bits must be zero)
//   6       1     format tag length F (1..64), then F bytes ASCII tag
//   7+F     4     header length H, then H bytes UTF-8 JSON object
//   ...     4     body length B, then B bytes body (backend-defined)
//   ...           if signed: 1 byte signature length S (1..255), then S
//                 bytes signature over every byte before this field
//
// Nothing may follow the last field. Every length is checked against the
// bytes that are actually there before anything is sliced, so a lying
// length prefix is an error, never an allocation.

import { DeserializationError } from './errors.js';
import type { PayloadMeta } from './types.js';

export const ENVELOPE_MAGIC = Uint8Array.of(0x44, 0x51, 0x53, 0x5a);
export const ENVELOPE_VERSION = 1;
export const FLAG_SIGNED = 0b0000_0001;
const KNOWN_FLAGS = FLAG_SIGNED;
const MAX_TAG_LENGTH = 64;
const TAG_PATTERN = /^[a-z0-9][a-z0-9._-]*$/i;

export interface EnvelopeParts {
  format: string;
  header: PayloadMeta;
  body: Uint8Array;
}

/** An envelope split into its fields; `body` is a view, not a copy. */
export interface OpenedEnvelope extends EnvelopeParts {
  version: number;
  flags: number;
  signed: boolean;
  /** The bytes a signature covers (everything before it). */
  signedBytes: Uint8Array;
  signature?: Uint8Array;
  /** Total payload length in bytes. */
  size: number;
}

/** Signs covered bytes; may say in advance how long its output is. */
export type EnvelopeSigner = ((covered: Uint8Array) => Uint8Array) & {
  signatureLength?: number;
  /**
   * Writes the signature straight into the envelope at `at` and returns
   * its length; needs `signatureLength`. Saves allocating and copying it.
   */
  signInto?: (covered: Uint8Array, target: Uint8Array, at: number) => number;
};

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

// Frozen headers are shared by every payload of one function: encode once.
const encodedHeaders = new WeakMap<PayloadMeta, Uint8Array>();

function headerBytes(header: PayloadMeta): Uint8Array {
  const known = encodedHeaders.get(header);
  if (known) return known;
  const bytes = encoder.encode(JSON.stringify(header));
  if (Object.isFrozen(header)) encodedHeaders.set(header, bytes);
  return bytes;
}

/**
 * Writes an envelope. `sign`, when given, receives the bytes to cover
 * (with the signed flag already set) and returns the signature. A signer
 * that knows its `signatureLength` saves a copy of the whole payload.
 */
export function encodeEnvelope(
  parts: EnvelopeParts,
  sign?: EnvelopeSigner,
): Uint8Array {
  const tag = encoder.encode(parts.format);
  if (!TAG_PATTERN.test(parts.format) || tag.length > MAX_TAG_LENGTH) {
    throw new TypeError(
      `format tag '${parts.format}' must be 1-${MAX_TAG_LENGTH} ASCII ` +
        'letters, digits, dots, dashes or underscores',
    );
  }
  const header = headerBytes(parts.header);
  const body = parts.body;
  const unsignedLength = 7 + tag.length + 4 + header.length + 4 + body.length;
  const reserve = sign ? 1 + (sign.signatureLength ?? 255) : 0;
  const out = new Uint8Array(unsignedLength + reserve);
  const view = new DataView(out.buffer);
  out.set(ENVELOPE_MAGIC, 0);
  out[4] = ENVELOPE_VERSION;
  out[5] = sign ? FLAG_SIGNED : 0;
  out[6] = tag.length;
  let at = 7;
  out.set(tag, at);
  at += tag.length;
  view.setUint32(at, header.length, true);
  out.set(header, at + 4);
  at += 4 + header.length;
  view.setUint32(at, body.length, true);
  out.set(body, at + 4);
  at += 4 + body.length;
  if (!sign) return out;
  if (sign.signInto && sign.signatureLength !== undefined) {
    out[at] = sign.signatureLength;
    sign.signInto(out.subarray(0, at), out, at + 1);
    return out;
  }
  const signature = sign(out.subarray(0, at));
  if (signature.length < 1 || signature.length > 255) {
    throw new RangeError('a signature must be 1 to 255 bytes long');
  }
  const end = at + 1 + signature.length;
  if (end > out.length) {
    throw new RangeError(
      `signature is ${signature.length} bytes, more than the ` +
        `${sign.signatureLength} the signer announced`,
    );
  }
  out[at] = signature.length;
  out.set(signature, at + 1);
  // Allocating is the expensive part here: copy only if we over-reserved.
  return end === out.length ? out : out.slice(0, end);
}

function damaged(what: string): DeserializationError {
  return new DeserializationError(
    `not a valid duckqueue payload: ${what}. The bytes were damaged, ` +
      'truncated, or were not written by a duckqueue serializer.',
  );
}

/** Quick test for the magic bytes; says nothing about validity. */
export function looksLikeEnvelope(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    bytes[0] === ENVELOPE_MAGIC[0] &&
    bytes[1] === ENVELOPE_MAGIC[1] &&
    bytes[2] === ENVELOPE_MAGIC[2] &&
    bytes[3] === ENVELOPE_MAGIC[3]
  );
}

/**
 * The format tag of an envelope, read from its fixed preamble only (no
 * header or body is parsed, so it is safe before a signature check), or
 * undefined when the bytes do not start like an envelope.
 */
export function envelopeFormatTag(bytes: Uint8Array): string | undefined {
  if (!(bytes instanceof Uint8Array) || !looksLikeEnvelope(bytes)) {
    return undefined;
  }
  const tagLength = bytes[6];
  if (tagLength === undefined || tagLength < 1 || tagLength > MAX_TAG_LENGTH) {
    return undefined;
  }
  if (bytes.length < 7 + tagLength) return undefined;
  const tag = String.fromCharCode(...bytes.subarray(7, 7 + tagLength));
  return TAG_PATTERN.test(tag) ? tag : undefined;
}

/** Reads and validates the envelope fields. Does not decode the body. */
export function decodeEnvelope(bytes: Uint8Array): OpenedEnvelope {
  if (!(bytes instanceof Uint8Array)) {
    throw new DeserializationError(
      `expected a Uint8Array (or Buffer) payload, got ${describe(bytes)}`,
    );
  }
  if (!looksLikeEnvelope(bytes)) throw damaged('missing magic bytes "DQSZ"');
  if (bytes.length < 7) throw damaged('truncated before the format tag');
  const version = bytes[4]!;
  if (version !== ENVELOPE_VERSION) {
    throw new DeserializationError(
      `payload uses envelope version ${version}; this duckqueue reads ` +
        `version ${ENVELOPE_VERSION}. Upgrade the worker, or re-enqueue ` +
        'the job from a producer on the same version.',
    );
  }
  const flags = bytes[5]!;
  if ((flags & ~KNOWN_FLAGS) !== 0) {
    throw damaged(`unknown flag bits 0x${flags.toString(16)}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const tagLength = bytes[6]!;
  if (tagLength < 1 || tagLength > MAX_TAG_LENGTH) {
    throw damaged(`format tag length ${tagLength} is out of range`);
  }
  let at = 7;
  const tagEnd = need(bytes, at, tagLength, 'format tag');
  const format = String.fromCharCode(...bytes.subarray(at, tagEnd));
  if (!TAG_PATTERN.test(format)) throw damaged('format tag is not ASCII');
  at = tagEnd;
  const headerLength = readLength(view, bytes, at, 'header');
  at += 4;
  const headerEnd = need(bytes, at, headerLength, 'header');
  const header = parseHeader(bytes.subarray(at, headerEnd));
  at = headerEnd;
  const bodyLength = readLength(view, bytes, at, 'body');
  at += 4;
  const bodyEnd = need(bytes, at, bodyLength, 'body');
  const body = bytes.subarray(at, bodyEnd);
  at = bodyEnd;
  const signed = (flags & FLAG_SIGNED) !== 0;
  const signedBytes = bytes.subarray(0, at);
  let signature: Uint8Array | undefined;
  if (signed) {
    if (at >= bytes.length) throw damaged('signed flag set but no signature');
    const sigLength = bytes[at]!;
    if (sigLength === 0) throw damaged('signature length is zero');
    const sigEnd = need(bytes, at + 1, sigLength, 'signature');
    signature = bytes.subarray(at + 1, sigEnd);
    at = sigEnd;
  }
  if (at !== bytes.length) {
    throw damaged(`${bytes.length - at} unexpected bytes after the body`);
  }
  return {
    version,
    flags,
    signed,
    format,
    header,
    body,
    signedBytes,
    signature,
    size: bytes.length,
  };
}

function readLength(
  view: DataView,
  bytes: Uint8Array,
  at: number,
  field: string,
): number {
  need(bytes, at, 4, `${field} length`);
  return view.getUint32(at, true);
}

/** Checks `length` bytes exist at `at`; returns the end offset. */
function need(
  bytes: Uint8Array,
  at: number,
  length: number,
  field: string,
): number {
  const end = at + length;
  if (end > bytes.length) {
    throw damaged(
      `${field} claims ${length} bytes at offset ${at} but the payload ` +
        `is ${bytes.length} bytes long`,
    );
  }
  return end;
}

// A worker sees the same few headers over and over (one per job function):
// parsed headers are kept, frozen so every payload can share one object
// and checks on it can be remembered (Policy, resolveFunction).
const HEADER_CACHE_LIMIT = 512;
const parsedHeaders = new Map<string, PayloadMeta>();

function parseHeader(raw: Uint8Array): PayloadMeta {
  let text: string;
  try {
    text = decoder.decode(raw);
  } catch (cause) {
    throw new DeserializationError(
      'payload header is not valid UTF-8 JSON; the bytes were damaged',
      { cause },
    );
  }
  const known = parsedHeaders.get(text);
  if (known) return known;
  const header = Object.freeze(parseHeaderText(text));
  if (parsedHeaders.size >= HEADER_CACHE_LIMIT) parsedHeaders.clear();
  parsedHeaders.set(text, header);
  return header;
}

function parseHeaderText(text: string): PayloadMeta {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new DeserializationError(
      'payload header is not valid UTF-8 JSON; the bytes were damaged',
      { cause },
    );
  }
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    typeof (value as PayloadMeta).fnName !== 'string'
  ) {
    throw damaged('header is not an object with a string fnName');
  }
  return value as PayloadMeta;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') {
    return value.constructor?.name ?? 'an object';
  }
  return typeof value;
}
