// Consumer process of the capability matrix: a fresh process that loads
// every payload of one backend, runs it and compares with the producer's
// result. It imports the corpus only to register the json tasks, as a
// real worker registers its tasks.
//
//   node --import tsx consumer.ts <backend> <corpus dir> <in.json> <out.json>

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SerializationError } from '../errors.js';
import { createSerializer } from '../index.js';
import { registerTask } from '../task-registry.js';
import type { MatrixBackend, ProducedShape } from './cells.js';
import { run } from './invoke.js';

export interface ConsumedCell {
  shape: string;
  outcome: 'works' | 'refused' | 'wrong';
  phase?: 'load' | 'call';
  error?: string;
  message?: string;
  actual?: string;
}

async function main(
  backend: MatrixBackend,
  corpusDir: string,
  input: string,
  out: string,
): Promise<void> {
  const corpus = (await import(
    pathToFileURL(path.join(corpusDir, 'shapes.ts')).href
  )) as { shapes: { id: string; fn: never }[]; closeCorpus(): void };
  for (const shape of corpus.shapes) registerTask(shape.id, shape.fn);
  const produced = JSON.parse(readFileSync(input, 'utf8')) as ProducedShape[];
  const serializer = createSerializer(backend);
  const results: ConsumedCell[] = [];
  for (const shape of produced) {
    const payload = shape.cells[backend].payload;
    if (payload === undefined) continue;
    results.push(await consume(serializer, shape, Buffer.from(payload, 'base64')));
  }
  writeFileSync(out, JSON.stringify(results));
  corpus.closeCorpus();
}

async function consume(
  serializer: ReturnType<typeof createSerializer>,
  shape: ProducedShape,
  bytes: Uint8Array,
): Promise<ConsumedCell> {
  let call;
  try {
    call = await serializer.deserialize(bytes);
  } catch (err) {
    const typed = err instanceof SerializationError;
    return {
      shape: shape.id,
      outcome: typed ? 'refused' : 'wrong',
      phase: 'load',
      error: err instanceof Error ? err.name : 'non-Error',
      message: err instanceof Error ? err.message : String(err),
    };
  }
  const result = await run(call.fn, call.args, shape.invoke);
  const same = JSON.stringify(result) === JSON.stringify(shape.expected);
  if (same) return { shape: shape.id, outcome: 'works' };
  return {
    shape: shape.id,
    outcome: 'wrong',
    phase: 'call',
    actual: 'value' in result ? result.value : `threw ${result.threw}`,
  };
}

const [backend, corpusDir, input, out] = process.argv.slice(2);
main(backend as MatrixBackend, corpusDir!, input!, out!).then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
