// The capability matrix: every corpus shape × backend, round-tripped in
// fresh processes by the serializers' own runCapabilityMatrix
// (src/serialize/capability.ts), plus Pulumi and serialize-javascript run
// over the same corpus the same way (producer process, then a fresh
// consumer per peer) as extra columns. Cells and refusal reasons are exact
// metrics: a change is a behaviour change the gate reports.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadCapabilityMatrix } from '../src/bench/capability-matrix.js';
import { PEER_IDS } from '../src/bench/function-serializers.js';
import { exact, idPart } from '../src/bench/metrics.js';
import { PROJECT_ROOT } from '../src/bench/paths.js';
import type { Metric } from '../src/bench/results.js';
import type { CapabilityCell, CapabilityData } from '../src/bench/suite-data.js';
import {
  defineSuite,
  runSuiteIfMain,
  type SuiteOutput,
} from '../src/bench/suite.js';
import type { PeerConsumedCell } from './capability/peer-consumer.js';
import type { PeerProduced } from './capability/peer-producer.js';

const execFileAsync = promisify(execFile);
const here = path.join(path.dirname(fileURLToPath(import.meta.url)), 'capability');
const corpusDir = path.join(PROJECT_ROOT, 'test', 'fixtures', 'corpus');
const PEER_LABELS: Record<string, string> = {
  pulumi: 'Pulumi',
  'serialize-javascript': 'serialize-javascript',
};

async function node(script: string, args: string[]): Promise<void> {
  await execFileAsync(
    process.execPath,
    ['--import', 'tsx', path.join(here, script), ...args],
    { cwd: PROJECT_ROOT, timeout: 120_000, maxBuffer: 8 * 1024 * 1024 },
  );
}

/** Peer cells for the module shapes; `node -e` shapes are marked n/a. */
async function peerCells(data: CapabilityData): Promise<CapabilityCell[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'duckqueue-peers-'));
  try {
    const producedFile = path.join(dir, 'produced.json');
    await node('peer-producer.ts', [corpusDir, producedFile]);
    const produced = JSON.parse(
      await readFile(producedFile, 'utf8'),
    ) as PeerProduced;
    const consumed = new Map<string, PeerConsumedCell[]>();
    for (const peer of PEER_IDS) {
      const out = path.join(dir, `consumed-${peer}.json`);
      await node('peer-consumer.ts', [peer, producedFile, out]);
      consumed.set(peer, JSON.parse(await readFile(out, 'utf8')));
    }
    const cells: CapabilityCell[] = [];
    for (const shape of data.shapes) {
      for (const peer of PEER_IDS) {
        const made = produced.cells.find(
          (c) => c.shape === shape.id && c.peer === peer,
        );
        if (!made) {
          cells.push({
            shape: shape.id,
            backend: peer,
            outcome: 'unavailable',
            reason: 'defined in a `node -e` script; peers not run there',
          });
          continue;
        }
        if (made.refused) {
          cells.push({
            shape: shape.id,
            backend: peer,
            outcome: 'refused',
            error: made.refused.error,
            reason: made.refused.reason,
          });
          continue;
        }
        const ran = consumed.get(peer)?.find((c) => c.shape === shape.id);
        const cell: CapabilityCell = {
          shape: shape.id,
          backend: peer,
          outcome: ran?.outcome ?? 'wrong',
        };
        if (made.bytes !== undefined) cell.bytes = made.bytes;
        if (ran?.error) cell.error = ran.error;
        if (ran?.reason) cell.reason = ran.reason;
        if (!ran) cell.reason = 'the consumer reported nothing for this cell';
        cells.push(cell);
      }
    }
    return cells;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function toMetrics(cells: CapabilityCell[]): Metric[] {
  const metrics: Metric[] = [];
  for (const cell of cells) {
    const id = `capability.${idPart(cell.backend)}.${idPart(cell.shape)}`;
    const value =
      cell.outcome === 'refused' || cell.outcome === 'wrong'
        ? `${cell.outcome}:${cell.error ?? 'Error'}`
        : cell.outcome;
    metrics.push(exact(id, value, { tags: [cell.backend] }));
    if (cell.outcome === 'refused' && cell.path) {
      metrics.push(exact(`${id}.reason`, cell.path, { tags: [cell.backend] }));
    }
    if (cell.outcome === 'works' && cell.bytes !== undefined) {
      metrics.push(
        exact(`size.corpus.${idPart(cell.backend)}.${idPart(cell.shape)}`, cell.bytes, {
          unit: 'bytes',
          tags: [cell.backend],
        }),
      );
    }
    if (cell.format && cell.backend === 'auto') {
      metrics.push(exact(`${id}.format`, cell.format, { tags: ['auto'] }));
    }
  }
  return metrics;
}

const suite = defineSuite({
  name: 'capability',
  title: 'Capability matrix',
  async run(ctx): Promise<SuiteOutput> {
    ctx.progress('our backends over the corpus (fresh processes)', 0, 2);
    const data = await loadCapabilityMatrix();
    ctx.progress('Pulumi and serialize-javascript over the corpus', 1, 2);
    const peers = await peerCells(data);
    data.cells.push(...peers);
    data.backends.push(
      ...PEER_IDS.map((id) => ({
        id,
        label: PEER_LABELS[id] ?? id,
        kind: 'peer' as const,
      })),
    );
    data.notes.push(
      'Peers are run the same way as our backends: serialized in one ' +
        'producer process, loaded and run in a fresh process per peer. ' +
        'Pulumi carries the arguments through node:v8.',
    );
    return { metrics: toMetrics(data.cells), data };
  },
});

export default suite;
runSuiteIfMain(suite, import.meta.url);
