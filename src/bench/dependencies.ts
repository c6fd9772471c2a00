// How many packages each serializer pulls in at run time, counted from
// package-lock.json (the transitive closure of its direct packages). A
// dependency is code that runs inside every worker: part of the cost.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DependencyFootprint } from './suite-data.js';

/** Packages each backend imports itself (node: builtins are free). */
export const DIRECT_PACKAGES: Record<string, string[]> = {
  v8: ['acorn'],
  json: ['superjson'],
  source: ['acorn', 'acorn-walk'],
  auto: ['acorn', 'acorn-walk'],
  pulumi: ['@pulumi/pulumi'],
  'serialize-javascript': ['serialize-javascript'],
};

interface LockPackage {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** Resolves `name` from the folder of `from` the way node does. */
function resolveInLock(
  packages: Record<string, LockPackage>,
  from: string,
  name: string,
): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!dir) return undefined;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut === -1 ? '' : dir.slice(0, cut);
  }
}

export function dependencyFootprints(root: string): DependencyFootprint[] {
  const lockFile = path.join(root, 'package-lock.json');
  if (!existsSync(lockFile)) return [];
  const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as {
    packages: Record<string, LockPackage>;
  };
  const { packages } = lock;
  return Object.entries(DIRECT_PACKAGES).map(([backend, direct]) => {
    const seen = new Set<string>();
    const queue = direct
      .map((name) => resolveInLock(packages, '', name))
      .filter((p): p is string => p !== undefined);
    while (queue.length) {
      const key = queue.pop()!;
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = packages[key] ?? {};
      const names = Object.keys({
        ...entry.dependencies,
        ...entry.optionalDependencies,
      });
      for (const name of names) {
        const found = resolveInLock(packages, key, name);
        if (found && !seen.has(found)) queue.push(found);
      }
    }
    return { backend, direct, transitive: seen.size };
  });
}
