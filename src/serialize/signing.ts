// HMAC-SHA256 signatures over whole envelopes.
//
// The envelope (envelope.ts) ends, when its signed flag is set, with a
// signature length byte S and S signature bytes covering everything before
// the length byte. Our signature is
//
//   key id (1..64 bytes, UTF-8) | key id length (1 byte) | mac (32 bytes)
//
// so a verifier finds the mac, the key id and S at fixed offsets from the
// END of the payload. The mac is checked before the envelope's header or
// body is parsed: an unsigned or altered payload is refused having had
// nothing but its length and these trailing bytes read.

import * as crypto from 'node:crypto';
import { createHash, createHmac } from 'node:crypto';
import { PolicyViolationError } from './errors.js';

export const MAC_BYTES = 32;
const MAX_KEY_ID_BYTES = 64;
const MIN_SECRET_BYTES = 16;
const SHA256_BLOCK = 64;
/** Above this size the mac is streamed instead of copied to scratch. */
const SCRATCH_LIMIT = 64 * 1024;

/** A key as users give it: the secret alone, or with an explicit id. */
export type SigningKeyInput =
  | string
  | Uint8Array
  | { id: string; secret: string | Uint8Array };

/** Raised when a payload's signature is missing, unknown or wrong. */
export class SignatureError extends PolicyViolationError {
  override name = 'SignatureError';
}

/** Raised for a key that is too short or has an unusable id. */
export class SigningKeyError extends TypeError {
  override name = 'SigningKeyError';
}

/**
 * One HMAC-SHA256 key. The inner and outer padded keys are computed once,
 * and each mac is two one-shot hashes: Node's streaming Hmac object costs
 * about twice as much per call on small payloads.
 */
export class SigningKey {
  readonly id: string;
  private readonly idBytes: Buffer;
  private readonly secret: Buffer;
  private readonly outer: Buffer;
  private scratch: Buffer;

  constructor(input: SigningKeyInput) {
    const { id, secret } = normaliseKey(input);
    this.id = id;
    this.idBytes = Buffer.from(id, 'utf8');
    this.secret = secret;
    const block = Buffer.alloc(SHA256_BLOCK);
    const k = secret.length > SHA256_BLOCK ? sha256(secret) : secret;
    k.copy(block);
    this.scratch = Buffer.allocUnsafe(SHA256_BLOCK + 4096);
    for (let i = 0; i < SHA256_BLOCK; i++) {
      this.scratch[i] = block[i]! ^ 0x36;
    }
    this.outer = Buffer.allocUnsafe(SHA256_BLOCK + MAC_BYTES);
    for (let i = 0; i < SHA256_BLOCK; i++) this.outer[i] = block[i]! ^ 0x5c;
  }

  /** HMAC-SHA256 of `data`, as 64 hex characters. */
  macHex(data: Uint8Array): string {
    const mac = Buffer.allocUnsafe(MAC_BYTES);
    this.macInto(data, mac, 0);
    return mac.toString('hex');
  }

  /**
   * Writes HMAC-SHA256 of `data` into `target` at `at`. Only the two
   * hashes call into OpenSSL; the rest stays in JavaScript and allocates
   * nothing, which matters more between database calls than in a loop.
   */
  macInto(data: Uint8Array, target: Uint8Array, at: number): void {
    if (data.length > SCRATCH_LIMIT) {
      target.set(createHmac('sha256', this.secret).update(data).digest(), at);
      return;
    }
    const needed = SHA256_BLOCK + data.length;
    if (this.scratch.length < needed) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.scratch.length * 2));
      this.scratch.copy(grown, 0, 0, SHA256_BLOCK);
      this.scratch = grown;
    }
    this.scratch.set(data, SHA256_BLOCK);
    writeHex(hashHex(this.scratch.subarray(0, needed)), this.outer, SHA256_BLOCK);
    writeHex(hashHex(this.outer), target, at);
  }

  /** Bytes `signature` returns: key id, its length byte, the mac. */
  get signatureLength(): number {
    return this.idBytes.length + 1 + MAC_BYTES;
  }

  /**
   * The signature field for an envelope whose signed flag is set:
   * key id, key id length, then the mac of `covered`.
   */
  signature(covered: Uint8Array): Uint8Array {
    const out = Buffer.allocUnsafe(this.signatureLength);
    this.signInto(covered, out, 0);
    return out;
  }

  /** signature(), written into `target` at `at`; returns its length. */
  signInto(covered: Uint8Array, target: Uint8Array, at: number): number {
    const idLength = this.idBytes.length;
    target.set(this.idBytes, at);
    target[at + idLength] = idLength;
    this.macInto(covered, target, at + idLength + 1);
    return this.signatureLength;
  }

  /** True when `bytes[from, from + length)` is this key's id. */
  hasId(bytes: Uint8Array, from: number, length: number): boolean {
    const id = this.idBytes;
    if (id.length !== length) return false;
    for (let i = 0; i < length; i++) if (bytes[from + i] !== id[i]) return false;
    return true;
  }
}

/**
 * The keys a reader accepts, by id: the signing key, and older keys still
 * accepted while payloads signed with them drain from the queue.
 */
export class Keyring {
  /** The key new payloads are signed with; undefined for verify-only. */
  readonly signer: SigningKey | undefined;
  private readonly byId = new Map<string, SigningKey>();
  private readonly expected = Buffer.allocUnsafe(MAC_BYTES);

  constructor(
    signingKey: SigningKeyInput | null,
    verifyKeys: readonly SigningKeyInput[] = [],
  ) {
    this.signer = signingKey === null ? undefined : new SigningKey(signingKey);
    const keys = verifyKeys.map((k) => new SigningKey(k));
    if (this.signer) keys.unshift(this.signer);
    for (const key of keys) {
      const seen = this.byId.get(key.id);
      if (seen && !sameSecret(seen, key)) {
        throw new SigningKeyError(
          `two different keys share the id '${key.id}'; give each key ` +
            'its own id ({ id, secret }) so payloads name the right one',
        );
      }
      if (!seen) this.byId.set(key.id, key);
    }
  }

  get ids(): string[] {
    return [...this.byId.keys()];
  }

  /**
   * Checks the signature at the end of an envelope. Reads only the
   * trailing signature field, then macs the bytes before it; the header
   * and body are not parsed. Throws SignatureError for a payload too short
   * to carry a signature, one that names a key this ring does not hold, or
   * one whose mac does not match. The compare takes the same time wherever
   * the macs differ.
   */
  verify(bytes: Uint8Array): void {
    // S byte, at least one key id byte, the key id length, the mac.
    if (bytes.length < 1 + 1 + 1 + MAC_BYTES) {
      throw new SignatureError(
        `payload of ${bytes.length} bytes is too short to carry a ` +
          'signature; it was written without a signing key or cut short',
      );
    }
    const idLengthAt = bytes.length - MAC_BYTES - 1;
    const idLength = bytes[idLengthAt]!;
    const idStart = idLengthAt - idLength;
    const lengthByteAt = idStart - 1;
    if (
      idLength === 0 ||
      idLength > MAX_KEY_ID_BYTES ||
      lengthByteAt < 0 ||
      bytes[lengthByteAt] !== idLength + 1 + MAC_BYTES
    ) {
      throw new SignatureError(
        'payload carries no valid signature field; it was written ' +
          'without a signing key, or its bytes were changed',
      );
    }
    const key = this.keyAt(bytes, idStart, idLength);
    if (!key) {
      const id = Buffer.from(
        bytes.buffer,
        bytes.byteOffset + idStart,
        idLength,
      ).toString('utf8');
      throw new SignatureError(
        `payload is signed with key id '${printable(id)}', which is not ` +
          `among the accepted keys (${this.ids.join(', ')}); add that ` +
          'key to verifyKeys while payloads signed with it drain',
      );
    }
    key.macInto(bytes.subarray(0, lengthByteAt), this.expected, 0);
    // No early exit: the time taken does not depend on where macs differ.
    const macAt = bytes.length - MAC_BYTES;
    let difference = 0;
    for (let i = 0; i < MAC_BYTES; i++) {
      difference |= this.expected[i]! ^ bytes[macAt + i]!;
    }
    if (difference !== 0) {
      throw new SignatureError(
        `payload signature does not match key '${key.id}': the payload was ` +
          'altered after it was signed, or signed with another secret',
      );
    }
  }

  // Compared as bytes, so a valid payload costs no string decoding.
  private keyAt(
    bytes: Uint8Array,
    from: number,
    length: number,
  ): SigningKey | undefined {
    for (const key of this.byId.values()) {
      if (key.hasId(bytes, from, length)) return key;
    }
    return undefined;
  }
}

function normaliseKey(input: SigningKeyInput): { id: string; secret: Buffer } {
  let id: string | undefined;
  let raw: string | Uint8Array;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    raw = input;
  } else if (input && typeof input === 'object' && 'secret' in input) {
    id = input.id;
    raw = input.secret;
  } else {
    throw new SigningKeyError(
      'a signing key must be a string, a Uint8Array or { id, secret }',
    );
  }
  const secret =
    typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.from(raw);
  if (secret.length < MIN_SECRET_BYTES) {
    throw new SigningKeyError(
      `signing key has ${secret.length} bytes; use at least ` +
        `${MIN_SECRET_BYTES} random bytes (32 recommended, e.g. ` +
        "crypto.randomBytes(32).toString('base64'))",
    );
  }
  // An id derived from the secret lets rotation work without naming keys.
  id ??= 'k' + sha256(secret).toString('hex').slice(0, 12);
  const idBytes = Buffer.byteLength(id, 'utf8');
  if (idBytes === 0 || idBytes > MAX_KEY_ID_BYTES) {
    throw new SigningKeyError(
      `key id '${id}' must be 1 to ${MAX_KEY_ID_BYTES} bytes of UTF-8`,
    );
  }
  return { id, secret };
}

function sameSecret(a: SigningKey, b: SigningKey): boolean {
  const probe = Buffer.from('duckqueue key comparison');
  return a.macHex(probe) === b.macHex(probe);
}

function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

// crypto.hash (Node >= 20.12) skips the Hash object and is the fast path.
const hashHex: (data: Uint8Array) => string =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha256', data, 'hex')
    : (data) => createHash('sha256').update(data).digest('hex');

// Hex digit value by character code; 64 hex characters become 32 bytes
// without a call into native code.
const HEX_VALUE = new Uint8Array(128);
for (let i = 0; i < 16; i++) {
  HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
}

function writeHex(hex: string, target: Uint8Array, at: number): void {
  for (let i = 0; i < MAC_BYTES; i++) {
    target[at + i] =
      (HEX_VALUE[hex.charCodeAt(2 * i)]! << 4) |
      HEX_VALUE[hex.charCodeAt(2 * i + 1)]!;
  }
}

function printable(text: string): string {
  return JSON.stringify(text).slice(1, -1).slice(0, 80);
}
