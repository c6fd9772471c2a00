// Producer process of the capability matrix: imports the corpus natively
// (node --import tsx), serializes every shape with every backend and
// writes the payloads and expected results as JSON.
//
//   node --import tsx producer.ts <corpus dir> <out.json>

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { produceShape, type ProducedShape, type ShapeInput } from './cells.js';

async function main(corpusDir: string, out: string): Promise<void> {
  const corpus = (await import(
    pathToFileURL(path.join(corpusDir, 'shapes.ts')).href
  )) as { shapes: ShapeInput[]; closeCorpus(): void };
  const { evalShapes } = (await import(
    pathToFileURL(path.join(corpusDir, 'eval-shapes.ts')).href
  )) as { evalShapes: unknown[] };
  const shapes: ProducedShape[] = [];
  for (const shape of corpus.shapes) shapes.push(await produceShape(shape, 'module'));
  writeFileSync(out, JSON.stringify({ shapes, evalShapes }));
  corpus.closeCorpus();
}

const [corpusDir, out] = process.argv.slice(2);
main(corpusDir!, out!).then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
