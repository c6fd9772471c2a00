// The payload envelope: strict length checks, readable headers, and the
// committed version-1 payloads that must stay loadable forever.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeEnvelope,
  encodeEnvelope,
  ENVELOPE_VERSION,
  FLAG_SIGNED,
} from '../src/serialize/envelope.js';
import { DeserializationError } from '../src/serialize/errors.js';
import {
  createSerializer,
  inspectPayload,
  registerTask,
} from '../src/serialize/index.js';

const parts = {
  format: 'v8',
  header: { fnName: 'total', module: './jobs.ts', exportName: 'total' },
  body: Uint8Array.of(1, 2, 3, 4, 5),
};

function fixture(name: string): Uint8Array {
  return readFileSync(new URL(`./fixtures/payloads/${name}`, import.meta.url));
}

describe('envelope', () => {
  it('round-trips format, header and body', () => {
    const opened = decodeEnvelope(encodeEnvelope(parts));
    expect(opened.format).toBe('v8');
    expect(opened.version).toBe(ENVELOPE_VERSION);
    expect(opened.header).toEqual(parts.header);
    expect([...opened.body]).toEqual([1, 2, 3, 4, 5]);
    expect(opened.signed).toBe(false);
  });

  it('hands the signer the covered bytes with the signed flag set', () => {
    let covered: Uint8Array | undefined;
    const bytes = encodeEnvelope(parts, (c) => {
      covered = c.slice();
      return Uint8Array.of(9, 9, 9);
    });
    expect(covered![5]! & FLAG_SIGNED).toBe(FLAG_SIGNED);
    const opened = decodeEnvelope(bytes);
    expect(opened.signed).toBe(true);
    expect([...opened.signature!]).toEqual([9, 9, 9]);
    expect([...opened.signedBytes]).toEqual([...covered!]);
  });

  it('refuses every truncation of a valid payload with DeserializationError', () => {
    const bytes = encodeEnvelope(parts);
    for (let n = 0; n < bytes.length; n++) {
      expect(() => decodeEnvelope(bytes.subarray(0, n)), `length ${n}`).toThrow(
        DeserializationError,
      );
    }
  });

  it('refuses a lying length prefix instead of trusting it', () => {
    const bytes = encodeEnvelope(parts);
    const headerLengthAt = 7 + 'v8'.length;
    const lying = bytes.slice();
    new DataView(lying.buffer).setUint32(headerLengthAt, 0xffffffff, true);
    expect(() => decodeEnvelope(lying)).toThrow(/header claims 4294967295 bytes/);
    const headerLength = new DataView(bytes.buffer).getUint32(headerLengthAt, true);
    const bodyLengthAt = headerLengthAt + 4 + headerLength;
    const lyingBody = bytes.slice();
    new DataView(lyingBody.buffer).setUint32(bodyLengthAt, 2 ** 31, true);
    expect(() => decodeEnvelope(lyingBody)).toThrow(/body claims/);
  });

  it.each([
    ['no magic', (b: Uint8Array) => b.fill(0, 0, 4), /magic/],
    ['future version', (b: Uint8Array) => (b[4] = 2), /version 2/],
    ['unknown flags', (b: Uint8Array) => (b[5] = 0x80), /flag/],
    ['empty format tag', (b: Uint8Array) => (b[6] = 0), /tag length/],
    ['non-ASCII tag', (b: Uint8Array) => (b[7] = 0xff), /not ASCII/],
    ['signed flag without signature', (b: Uint8Array) => (b[5] = FLAG_SIGNED), /signature/],
  ])('refuses %s', (_name, damage, message) => {
    const bytes = encodeEnvelope(parts).slice();
    damage(bytes);
    expect(() => decodeEnvelope(bytes)).toThrow(DeserializationError);
    expect(() => decodeEnvelope(bytes)).toThrow(message);
  });

  it('refuses trailing bytes', () => {
    const bytes = encodeEnvelope(parts);
    const longer = new Uint8Array(bytes.length + 3);
    longer.set(bytes);
    expect(() => decodeEnvelope(longer)).toThrow(/3 unexpected bytes/);
  });

  it('refuses a header that is not a JSON object with fnName', () => {
    for (const header of ['not json', '[1]', '{"module":"x"}']) {
      const text = new TextEncoder().encode(header);
      const bytes = new Uint8Array(7 + 2 + 4 + text.length + 4);
      bytes.set([0x44, 0x51, 0x53, 0x5a, 1, 0, 2, 0x76, 0x38]);
      new DataView(bytes.buffer).setUint32(9, text.length, true);
      bytes.set(text, 13);
      expect(() => decodeEnvelope(bytes), header).toThrow(DeserializationError);
    }
  });

  it('refuses input that is not bytes', () => {
    expect(() => decodeEnvelope('DQSZ' as never)).toThrow(/Uint8Array/);
    expect(() => inspectPayload(null as never)).toThrow(DeserializationError);
  });

  it('refuses to write a bad format tag', () => {
    expect(() => encodeEnvelope({ ...parts, format: 'has space' })).toThrow(/format tag/);
    expect(() => encodeEnvelope({ ...parts, format: 'x'.repeat(65) })).toThrow(/format tag/);
  });
});

describe('inspectPayload', () => {
  it('reads the header without loading the function', () => {
    const fn = function shipOrder(id: number) {
      return id;
    };
    registerTask('envelope.shipOrder', fn);
    const bytes = createSerializer('json').serialize({ fn, args: [7] });
    expect(inspectPayload(bytes)).toEqual({
      format: 'json',
      version: 1,
      fnName: 'shipOrder',
      signed: false,
      bytes: bytes.length,
      meta: { fnName: 'shipOrder', task: 'envelope.shipOrder' },
    });
  });
});

describe('version-1 payloads committed in test/fixtures/payloads', () => {
  it('still have the headers they were written with', () => {
    expect(inspectPayload(fixture('v1-json.bin'))).toMatchObject({
      format: 'json',
      version: 1,
      fnName: 'total',
      meta: { task: 'fixture.total' },
    });
    expect(inspectPayload(fixture('v1-v8.bin'))).toMatchObject({
      format: 'v8',
      version: 1,
      module: './test/fixtures/payloads/fixture-jobs.mjs',
      meta: { exportName: 'total' },
    });
    expect(inspectPayload(fixture('v1-source.bin'))).toMatchObject({
      format: 'source',
      version: 1,
      fnName: 'pages',
    });
  });

  it('still load and run: json', async () => {
    const { total } = await import('./fixtures/payloads/fixture-jobs.mjs');
    registerTask('fixture.total', total);
    const call = await createSerializer('json').deserialize(fixture('v1-json.bin'));
    expect(call.fn(...call.args)).toBe(16);
    const extra = call.args[1] as { at: Date; tags: Set<string>; big: bigint };
    expect(extra.at).toEqual(new Date(0));
    expect(extra.tags).toEqual(new Set(['a']));
    expect(extra.big).toBe(10n ** 20n);
  });

  it('still load and run: v8 by module reference', async () => {
    const call = await createSerializer('v8').deserialize(fixture('v1-v8.bin'));
    expect(call.fn(...call.args)).toBe(16);
  });

  it('still load and run: source with a captured value and a package import', async () => {
    const call = await createSerializer('source').deserialize(fixture('v1-source.bin'));
    expect(call.fn(...call.args)).toBe(3);
  });
});
