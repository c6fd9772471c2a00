// Which module a payload names, in one normal form, and whether a pattern
// from `allowModules` covers it. A payload may name a module four ways:
// a `node:` builtin, a package, a path (relative to the root, absolute, or
// a file: URL), or some other URL. Only the first three can be allowed, and
// a path only while it stays inside the configured root.

import { builtinModules } from 'node:module';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type ModuleKind = 'builtin' | 'package' | 'file';

export interface ClassifiedModule {
  kind: ModuleKind;
  /**
   * The form `allowModules` patterns are matched against: `node:fs`,
   * `lodash-es/fp`, or a root-relative path with `/` separators.
   */
  normal: string;
}

/** Why a specifier is refused before any allow list is consulted. */
export class ModuleRefusal {
  constructor(readonly why: string) {}
}

const BUILTINS = new Set(builtinModules.map((m) => m.replace(/^node:/, '')));
const SCHEME = /^([a-z][a-z0-9+.-]*):/i;
const CONTROL = /[\u0000-\u001f\u007f]/;
const MAX_SPECIFIER = 1024;

export function classifyModule(
  specifier: unknown,
  root: string,
): ClassifiedModule | ModuleRefusal {
  if (typeof specifier !== 'string' || specifier === '') {
    return new ModuleRefusal('the module specifier is missing or not text');
  }
  if (specifier.length > MAX_SPECIFIER) {
    return new ModuleRefusal(`it is longer than ${MAX_SPECIFIER} characters`);
  }
  if (CONTROL.test(specifier)) {
    return new ModuleRefusal('it contains control characters');
  }
  const scheme = SCHEME.exec(specifier)?.[1]?.toLowerCase();
  if (scheme === 'node') {
    const name = specifier.slice(5);
    return BUILTINS.has(name)
      ? { kind: 'builtin', normal: `node:${name}` }
      : new ModuleRefusal(`'${name}' is not a Node.js builtin module`);
  }
  if (scheme === 'file') {
    let file: string;
    try {
      file = fileURLToPath(specifier);
    } catch {
      return new ModuleRefusal('it is a file: URL that names no local file');
    }
    return insideRoot(file, root);
  }
  // One-letter schemes are Windows drive letters, not URLs.
  if (scheme && scheme.length > 1) {
    return new ModuleRefusal(
      `'${scheme}:' URLs load code from outside the project; only ` +
        'builtins, installed packages and files under the root can load',
    );
  }
  if (BUILTINS.has(specifier)) {
    return { kind: 'builtin', normal: `node:${specifier}` };
  }
  if (isPathLike(specifier)) return insideRoot(specifier, root);
  return { kind: 'package', normal: specifier };
}

/**
 * Paths start with `.`, `/`, a drive letter, or contain a `..` segment or a
 * backslash. Anything else is a package name or a root-relative path with
 * no `..`, and neither can leave the root.
 */
function isPathLike(specifier: string): boolean {
  return (
    specifier.startsWith('.') ||
    specifier.startsWith('/') ||
    specifier.includes('\\') ||
    /^[a-z]:/i.test(specifier) ||
    specifier.split('/').includes('..')
  );
}

function insideRoot(
  file: string,
  root: string,
): ClassifiedModule | ModuleRefusal {
  const absolute = path.resolve(root, file);
  const relative = path.relative(root, absolute);
  if (escapes(relative)) {
    return new ModuleRefusal(
      `the path resolves to ${absolute}, outside the root ${root}`,
    );
  }
  // A symlink inside the root may point outside it.
  const real = realpathOrNull(absolute);
  const realRoot = realpathOrNull(root) ?? root;
  if (real !== null && escapes(path.relative(realRoot, real))) {
    return new ModuleRefusal(
      `the path is a link to ${real}, outside the root ${realRoot}`,
    );
  }
  return { kind: 'file', normal: relative.split(path.sep).join('/') };
}

function escapes(relative: string): boolean {
  return (
    relative === '..' ||
    relative.startsWith('..' + path.sep) ||
    path.isAbsolute(relative)
  );
}

function realpathOrNull(file: string): string | null {
  try {
    return realpathSync(file);
  } catch {
    return null;
  }
}

/** An `allowModules` entry, compiled once. */
export type ModulePattern = (normal: string) => boolean;

/**
 * Compiles an `allowModules` entry. A RegExp is tested against the normal
 * form. A string matches that module and everything under it (`lodash-es`
 * covers `lodash-es/fp`; `src/jobs` covers `src/jobs/a.ts`); `*` matches
 * within one path segment and `**` across segments. Builtins are written
 * `node:fs` or `fs`; paths may start with `./`.
 */
export function compileModulePattern(pattern: string | RegExp): ModulePattern {
  if (pattern instanceof RegExp) {
    const re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
    return (normal) => re.test(normal);
  }
  let text = pattern.replace(/^\.\//, '').replace(/\/+$/, '');
  if (BUILTINS.has(text)) text = `node:${text}`;
  if (!text.includes('*')) {
    return (normal) => normal === text || normal.startsWith(text + '/');
  }
  const source = text
    .split(/(\*\*|\*)/)
    .map((part) =>
      part === '**'
        ? '.*'
        : part === '*'
          ? '[^/]*'
          : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  const re = new RegExp(`^${source}$`);
  return (normal) => re.test(normal);
}
