// Consumer for the peer columns: a fresh process that loads one peer's
// payloads, runs them and compares with the producer's result, the same
// way the serializers' own consumer does.
//
//   node --import tsx peer-consumer.ts <peer> <in.json> <out.json>

import { readFileSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { loadPeerSerializers } from '../../src/bench/function-serializers.js';
import { run } from '../../src/serialize/capability/invoke.js';
import type { PeerProduced } from './peer-producer.js';

export interface PeerConsumedCell {
  shape: string;
  outcome: 'works' | 'wrong';
  error?: string;
  reason?: string;
}

async function main(peerId: string, input: string, out: string) {
  const produced = JSON.parse(readFileSync(input, 'utf8')) as PeerProduced;
  const peer = (await loadPeerSerializers()).find((p) => p.id === peerId);
  if (!peer) throw new Error(`unknown peer '${peerId}'`);
  const results: PeerConsumedCell[] = [];
  for (const cell of produced.cells) {
    if (cell.peer !== peerId || cell.payload === undefined) continue;
    const payload = cell.payload.startsWith('s:')
      ? cell.payload.slice(2)
      : Buffer.from(cell.payload.slice(2), 'base64');
    let loaded;
    try {
      loaded = await peer.deserialize(payload);
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      results.push({
        shape: cell.shape,
        outcome: 'wrong',
        error: e.name,
        reason: `load failed: ${e.message.split('\n')[0]}`,
      });
      continue;
    }
    const actual = await run(loaded.fn, loaded.args, produced.invoke[cell.shape]);
    const expected = produced.expected[cell.shape];
    if (isDeepStrictEqual(actual, expected)) {
      results.push({ shape: cell.shape, outcome: 'works' });
    } else {
      const threw = 'threw' in actual ? actual.threw : undefined;
      results.push({
        shape: cell.shape,
        outcome: 'wrong',
        error: threw ? threw.split(':')[0] : 'WrongResult',
        reason: threw
          ? `call failed: ${threw.slice(0, 200)}`
          : `returned ${JSON.stringify(actual).slice(0, 120)}, expected ` +
            `${JSON.stringify(expected).slice(0, 120)}`,
      });
    }
  }
  writeFileSync(out, JSON.stringify(results));
}

const [peerId, input, out] = process.argv.slice(2);
main(peerId!, input!, out!).then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
