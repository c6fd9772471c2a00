// Data-only serializers compared over the real payloads: how a queue could
// store job arguments once the function is taken care of.

import v8 from 'node:v8';
import * as devalue from 'devalue';
import * as flatted from 'flatted';
import { Packr } from 'msgpackr';
import superjson from 'superjson';

export interface DataCodec {
  /** Stable id used in metric ids and as the slowdown tag. */
  id: string;
  label: string;
  encode(value: unknown): Uint8Array | string;
  decode(encoded: Uint8Array | string): unknown;
}

// Plain MessagePack: the payloads are JSON documents, nothing to clone.
const packr = new Packr();

export const DATA_CODECS: readonly DataCodec[] = [
  {
    id: 'v8',
    label: 'node:v8',
    encode: (v) => v8.serialize(v),
    decode: (e) => v8.deserialize(e as Uint8Array),
  },
  {
    id: 'json',
    label: 'JSON',
    encode: (v) => JSON.stringify(v),
    decode: (e) => JSON.parse(e as string),
  },
  {
    id: 'superjson',
    label: 'superjson',
    encode: (v) => superjson.stringify(v),
    decode: (e) => superjson.parse(e as string),
  },
  {
    id: 'flatted',
    label: 'flatted',
    encode: (v) => flatted.stringify(v),
    decode: (e) => flatted.parse(e as string),
  },
  {
    id: 'msgpackr',
    label: 'msgpackr',
    encode: (v) => packr.pack(v),
    decode: (e) => packr.unpack(e as Uint8Array),
  },
  {
    id: 'devalue',
    label: 'devalue',
    encode: (v) => devalue.stringify(v),
    decode: (e) => devalue.parse(e as string),
  },
];

export function encodedBytes(encoded: Uint8Array | string): number {
  return typeof encoded === 'string'
    ? Buffer.byteLength(encoded)
    : encoded.byteLength;
}
