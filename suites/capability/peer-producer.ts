// Producer for the peer columns of the capability matrix: imports the
// serializers' corpus natively, serializes every module shape with Pulumi
// and serialize-javascript, and records the original's result.
//
//   node --import tsx peer-producer.ts <corpus dir> <out.json>

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadPeerSerializers, payloadBytes } from '../../src/bench/function-serializers.js';
import { run, type InvokeMode } from '../../src/serialize/capability/invoke.js';

export interface PeerProducedCell {
  shape: string;
  peer: string;
  payload?: string;
  bytes?: number;
  refused?: { error: string; reason: string };
}

export interface PeerProduced {
  expected: Record<string, unknown>;
  invoke: Record<string, InvokeMode | undefined>;
  cells: PeerProducedCell[];
}

interface CorpusShape {
  id: string;
  fn: (...args: unknown[]) => unknown;
  args: unknown[];
  invoke?: InvokeMode;
}

async function main(corpusDir: string, out: string): Promise<void> {
  const corpus = (await import(
    pathToFileURL(path.join(corpusDir, 'shapes.ts')).href
  )) as { shapes: CorpusShape[]; closeCorpus(): void };
  const peers = await loadPeerSerializers();
  const produced: PeerProduced = { expected: {}, invoke: {}, cells: [] };
  for (const shape of corpus.shapes) {
    // Serialize first: captures are a snapshot taken before the run.
    for (const peer of peers) {
      const cell: PeerProducedCell = { shape: shape.id, peer: peer.id };
      try {
        const payload = await peer.serialize({ fn: shape.fn, args: shape.args });
        cell.bytes = payloadBytes(payload);
        cell.payload =
          typeof payload === 'string'
            ? `s:${payload}`
            : `b:${Buffer.from(payload).toString('base64')}`;
      } catch (error) {
        const e = error instanceof Error ? error : new Error(String(error));
        cell.refused = {
          error: e.name,
          reason: e.message.split('\n').slice(0, 4).join(' ').slice(0, 300),
        };
      }
      produced.cells.push(cell);
    }
    produced.expected[shape.id] = await run(shape.fn, shape.args, shape.invoke);
    produced.invoke[shape.id] = shape.invoke;
  }
  writeFileSync(out, JSON.stringify(produced));
  corpus.closeCorpus();
}

const [corpusDir, out] = process.argv.slice(2);
main(corpusDir!, out!).then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
