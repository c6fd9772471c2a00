// What a result was measured on: enough to tell two runs apart and to
// explain a difference between them (another CPU, a dirty tree, a newer
// serializer package).

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Environment } from './results.js';

/** Packages whose versions decide the numbers in the reports. */
export const COMPARED_PACKAGES = [
  'tinybench',
  'superjson',
  'flatted',
  'msgpackr',
  'devalue',
  'serialize-javascript',
  '@pulumi/pulumi',
  'better-sqlite3',
  '@duckdb/node-api',
  'pg',
  'acorn',
  'tsx',
  'lodash-es',
  'mime-db',
  '@octokit/webhooks-examples',
] as const;

function git(root: string, args: string[]): string | null {
  try {
    return execFileSync('git', args, {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

/** Version from node_modules/<name>/package.json, or null if absent. */
export function installedVersion(root: string, name: string): string | null {
  const file = path.join(root, 'node_modules', name, 'package.json');
  if (!existsSync(file)) return null;
  const pkg = JSON.parse(readFileSync(file, 'utf8')) as { version?: string };
  return pkg.version ?? null;
}

function pythonVersions(): Record<string, string> {
  try {
    const out = execFileSync(
      'python3',
      [
        '-c',
        'import sys, platform\n' +
          'print(platform.python_version())\n' +
          'try:\n import cloudpickle; print(cloudpickle.__version__)\n' +
          'except Exception: print("")',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 },
    ).split('\n');
    const found: Record<string, string> = {};
    if (out[0]) found['python'] = out[0].trim();
    if (out[1]?.trim()) found['cloudpickle'] = out[1].trim();
    return found;
  } catch {
    return {};
  }
}

export function collectEnvironment(root = process.cwd()): Environment {
  const packages: Record<string, string> = {};
  for (const name of COMPARED_PACKAGES) {
    const version = installedVersion(root, name);
    if (version) packages[name] = version;
  }
  Object.assign(packages, pythonVersions());
  const sha = git(root, ['rev-parse', 'HEAD']);
  const status = sha ? git(root, ['status', '--porcelain']) : null;
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    gitSha: sha,
    gitDirty: status === null ? null : status.length > 0,
    date: new Date().toISOString(),
    packages,
  };
}
