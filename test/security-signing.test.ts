import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope } from '../src/serialize/envelope.js';
import { PolicyViolationError } from '../src/serialize/errors.js';
import {
  Keyring,
  SignatureError,
  SigningKey,
  SigningKeyError,
} from '../src/serialize/signing.js';

const secret = 'a-test-secret-that-is-long-enough';
const parts = {
  format: 'json',
  header: { fnName: 'resize', exportName: 'resize' },
  body: new TextEncoder().encode('{"json":[[1,2,3]]}'),
};

function signedWith(key: SigningKey): Uint8Array {
  return encodeEnvelope(parts, (covered) => key.signature(covered));
}

describe('SigningKey', () => {
  it('computes standard HMAC-SHA256 for any key and data length', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 200 }),
        fc.uint8Array({ maxLength: 3000 }),
        (keyBytes, data) => {
          const key = new SigningKey(keyBytes);
          const expected = createHmac('sha256', keyBytes)
            .update(data)
            .digest('hex');
          expect(key.macHex(data)).toBe(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('matches HMAC-SHA256 above the scratch-buffer size too', () => {
    const data = randomBytes(200_000);
    const key = new SigningKey(secret);
    expect(key.macHex(data)).toBe(
      createHmac('sha256', secret).update(data).digest('hex'),
    );
  });

  it('refuses short secrets and unusable ids, naming the fix', () => {
    expect(() => new SigningKey('short')).toThrow(SigningKeyError);
    expect(() => new SigningKey('short')).toThrow(/at least 16/);
    expect(() => new SigningKey({ id: '', secret })).toThrow(/key id/);
    expect(() => new SigningKey({ id: 'x'.repeat(65), secret })).toThrow(
      /1 to 64 bytes/,
    );
    expect(() => new SigningKey(42 as never)).toThrow(SigningKeyError);
  });

  it('derives a stable id from the secret when none is given', () => {
    expect(new SigningKey(secret).id).toBe(new SigningKey(secret).id);
    expect(new SigningKey(secret).id).not.toBe(
      new SigningKey(secret + '!').id,
    );
    expect(new SigningKey({ id: '2025-01', secret }).id).toBe('2025-01');
  });
});

describe('Keyring.verify', () => {
  const key = new SigningKey(secret);
  const ring = new Keyring(secret);

  it('accepts what the key signed, and the envelope still decodes', () => {
    const bytes = signedWith(key);
    expect(() => ring.verify(bytes)).not.toThrow();
    const opened = decodeEnvelope(bytes);
    expect(opened.signed).toBe(true);
    expect(opened.header.fnName).toBe('resize');
  });

  it('refuses every single-bit change anywhere in the payload', () => {
    const bytes = signedWith(key);
    fc.assert(
      fc.property(
        fc.nat({ max: bytes.length - 1 }),
        fc.integer({ min: 0, max: 7 }),
        (at, bit) => {
          const copy = Uint8Array.from(bytes);
          copy[at]! ^= 1 << bit;
          expect(() => ring.verify(copy)).toThrow(SignatureError);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses truncation and appended bytes', () => {
    const bytes = signedWith(key);
    for (let cut = 0; cut < bytes.length; cut += 7) {
      expect(() => ring.verify(bytes.subarray(0, cut))).toThrow(
        SignatureError,
      );
    }
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(() => ring.verify(longer)).toThrow(SignatureError);
  });

  it('is a PolicyViolationError, so queues treat it as a policy refusal', () => {
    expect(() => ring.verify(encodeEnvelope(parts))).toThrow(
      PolicyViolationError,
    );
  });

  it('refuses a payload signed with another secret, naming the key id', () => {
    const other = new SigningKey({ id: key.id, secret: secret + 'x' });
    expect(() => ring.verify(signedWith(other))).toThrow(/does not match/);
  });

  it('names an unknown key id and says to add it to verifyKeys', () => {
    const stranger = new SigningKey({ id: 'old-2024', secret });
    expect(() => ring.verify(signedWith(stranger))).toThrow(
      /'old-2024'.*verifyKeys/,
    );
  });

  it('accepts old keys listed in verifyKeys during rotation', () => {
    const oldKey = { id: 'k-2024', secret: 'the-old-secret-0123456789' };
    const newKey = { id: 'k-2025', secret: 'the-new-secret-0123456789' };
    const rotated = new Keyring(newKey, [oldKey]);
    expect(() => rotated.verify(signedWith(new SigningKey(oldKey)))).not.toThrow();
    expect(() => rotated.verify(signedWith(new SigningKey(newKey)))).not.toThrow();
    const retired = new Keyring(newKey);
    expect(() => retired.verify(signedWith(new SigningKey(oldKey)))).toThrow(
      SignatureError,
    );
  });

  it('refuses two different secrets under one id', () => {
    expect(
      () => new Keyring({ id: 'a', secret }, [{ id: 'a', secret: secret + '2' }]),
    ).toThrow(/share the id 'a'/);
  });

  it('can verify without signing (verify-only ring)', () => {
    const verifyOnly = new Keyring(null, [secret]);
    expect(verifyOnly.signer).toBeUndefined();
    expect(() => verifyOnly.verify(signedWith(key))).not.toThrow();
  });
});
