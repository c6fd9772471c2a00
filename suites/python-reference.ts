// pickle vs cloudpickle, measured here and now by suites/python/reference.py
// (timeit), so the Python figures the design memo quotes sit beside fresh
// ones from the same machine and the same run as ours. Skipped, not
// failed, when python3 or cloudpickle is missing.

import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { exact, timing } from '../src/bench/metrics.js';
import type { Metric } from '../src/bench/results.js';
import type { PythonReferenceData } from '../src/bench/suite-data.js';
import {
  defineSuite,
  runSuiteIfMain,
  type SuiteOutput,
} from '../src/bench/suite.js';

const run = promisify(execFile);
const script = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'python',
  'reference.py',
);

async function probe(): Promise<string | null> {
  try {
    await run('python3', ['-c', 'import cloudpickle'], { timeout: 20_000 });
    return null;
  } catch (error) {
    const text = String((error as { stderr?: string }).stderr ?? error);
    if ((error as { code?: string }).code === 'ENOENT') {
      return 'python3 is not on PATH; install Python 3 with cloudpickle ' +
        '(pip install cloudpickle) to measure the reference';
    }
    if (text.includes('cloudpickle')) {
      return 'python3 has no cloudpickle module; pip install cloudpickle ' +
        'to measure the reference';
    }
    return `python3 could not start: ${text.split('\n')[0]}`;
  }
}

function toMetrics(data: PythonReferenceData): Metric[] {
  const metrics: Metric[] = [];
  const reference = data.rows.find(
    (r) => r.library === 'pickle' && r.shape === 'moduleFunction',
  );
  for (const row of data.rows) {
    const key = `${row.library}.${row.shape}`;
    const tags = [row.library];
    metrics.push(
      exact(
        `capability.python.${key}`,
        row.status === 'refused' ? `refused:${row.error}` : row.status,
        { tags },
      ),
    );
    if (row.status !== 'works') continue;
    metrics.push(
      exact(`size.python.${key}`, row.bytes!, { unit: 'bytes', tags }),
    );
    for (const phase of ['dumps', 'loads'] as const) {
      const isReference = row === reference;
      metrics.push(
        timing(`python.${phase}.${key}`, row[phase]!, {
          label: `${row.library} · ${row.shape} · ${phase}`,
          tags,
          ...(reference && !isReference
            ? {
                ratioTo: {
                  id: `python.${phase}.pickle.moduleFunction`,
                  samples: reference[phase]!,
                },
              }
            : {}),
        }),
      );
    }
  }
  return metrics;
}

const suite = defineSuite({
  name: 'python-reference',
  title: 'Python reference',
  async run(ctx): Promise<SuiteOutput> {
    ctx.progress('checking for python3 and cloudpickle');
    const missing = await probe();
    if (missing) {
      return { status: 'skipped', reason: missing, metrics: [] };
    }
    const { pythonNumber, pythonRepeat } = ctx.settings;
    ctx.progress(
      `timeit: ${pythonRepeat} rounds of ${pythonNumber} calls per row`,
    );
    const { stdout } = await run(
      'python3',
      [script, String(pythonNumber), String(pythonRepeat)],
      { timeout: ctx.settings.suiteTimeoutMs, maxBuffer: 16 * 1024 * 1024 },
    );
    const data = JSON.parse(stdout) as PythonReferenceData;
    return { metrics: toMetrics(data), data };
  },
});

export default suite;
runSuiteIfMain(suite, import.meta.url);
