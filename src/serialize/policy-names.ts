// Names a payload may not use, and how lookalikes of them are recognised.
//
// A deny list is a speed bump, not a wall: JavaScript has too many ways to
// reach a function. It catches the payloads that copy known exploits and
// makes an attacker work harder; signing and `strict` are the real controls.

/**
 * The default `denyNames`. Each entry is refused as a function name, an
 * export name, an identifier or property in source payloads, and (for the
 * module names) as a module specifier, with or without `node:`.
 */
export const DEFAULT_DENY_NAMES: readonly string[] = Object.freeze([
  // Code from strings.
  'eval',
  'Function',
  'AsyncFunction',
  'GeneratorFunction',
  'AsyncGeneratorFunction',
  'constructor',
  // Keys that reach a prototype when data is merged into an object.
  '__proto__',
  'prototype',
  // vm.* entry points that compile strings.
  'runInThisContext',
  'runInNewContext',
  'runInContext',
  'compileFunction',
  'SourceTextModule',
  // child_process.*
  'exec',
  'execSync',
  'execFile',
  'execFileSync',
  'spawn',
  'spawnSync',
  'fork',
  // process.* and module.* escape hatches.
  'binding',
  '_linkedBinding',
  'dlopen',
  'require',
  'createRequire',
  // process.getBuiltinModule('node:child_process') is require by another name.
  'getBuiltinModule',
  'setuid',
  'setgid',
  // Modules whose whole purpose is running code or reaching internals.
  'child_process',
  'vm',
  'worker_threads',
  'cluster',
  'inspector',
  'inspector/promises',
  'module',
  'repl',
  'wasi',
  'v8',
]);

/**
 * Letters from other scripts that render like ASCII letters. Names are
 * compared after mapping these, so `еval` with a Cyrillic 'е' is refused as
 * a lookalike of `eval` instead of slipping past a plain string compare.
 */
const CONFUSABLES: Record<string, string> = {
  // Cyrillic
  а: 'a', в: 'b', е: 'e', ё: 'e', һ: 'h', і: 'i', ї: 'i', ј: 'j', к: 'k',
  м: 'm', н: 'h', о: 'o', п: 'n', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  ѕ: 's', ԁ: 'd', ԛ: 'q', ԝ: 'w', ո: 'n', ս: 'u', ɡ: 'g',
  А: 'A', В: 'B', Е: 'E', К: 'K', М: 'M', Н: 'H', О: 'O', Р: 'P', С: 'C',
  Т: 'T', Х: 'X', І: 'I', Ј: 'J', Ѕ: 'S',
  // Greek
  α: 'a', ε: 'e', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u',
  χ: 'x', Α: 'A', Β: 'B', Ε: 'E', Ζ: 'Z', Η: 'H', Ι: 'I', Κ: 'K', Μ: 'M',
  Ν: 'N', Ο: 'O', Ρ: 'P', Τ: 'T', Υ: 'Y', Χ: 'X',
  // Latin look-alikes outside ASCII
  ı: 'i', ℓ: 'l', ſ: 's',
};

// Characters that render as nothing and can split a name invisibly.
const INVISIBLE = /[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff]/gu;

/** The ASCII shape a name is displayed as, for lookalike comparison. */
export function skeleton(name: string): string {
  const folded = name.normalize('NFKC').replace(INVISIBLE, '');
  let out = '';
  for (const ch of folded) out += CONFUSABLES[ch] ?? ch;
  return out;
}

/** Strips `node:` so `node:vm` and `vm` are one name. */
export function bareModuleName(specifier: string): string {
  return specifier.startsWith('node:') ? specifier.slice(5) : specifier;
}

export type NameMatch =
  | { kind: 'exact'; denied: string }
  | { kind: 'lookalike'; denied: string }
  | null;

/**
 * A compiled deny list. `match` says whether a name is denied outright or
 * only looks like a denied name (mixed scripts, invisible characters).
 */
export class DenyList {
  private readonly exact: Set<string>;
  private readonly shapes = new Map<string, string>();

  constructor(names: readonly string[]) {
    this.exact = new Set(names.map(bareModuleName));
    for (const name of this.exact) this.shapes.set(skeleton(name), name);
  }

  get size(): number {
    return this.exact.size;
  }

  has(name: string): boolean {
    return this.exact.has(name);
  }

  match(name: string): NameMatch {
    if (this.exact.has(name)) return { kind: 'exact', denied: name };
    const bare = bareModuleName(name);
    if (this.exact.has(bare)) return { kind: 'exact', denied: bare };
    // Pure ASCII names cannot be lookalikes; skip the normalisation cost.
    if (/^[\x20-\x7e]*$/.test(bare)) return null;
    const denied = this.shapes.get(skeleton(bare));
    return denied === undefined ? null : { kind: 'lookalike', denied };
  }
}

/** Shows a name with its non-ASCII characters escaped, for messages. */
export function showName(name: string): string {
  let out = '';
  for (const ch of name) {
    const code = ch.codePointAt(0)!;
    out +=
      code >= 0x20 && code <= 0x7e
        ? ch
        : `\\u{${code.toString(16).padStart(4, '0')}}`;
  }
  return out.length > 120 ? out.slice(0, 117) + '...' : out;
}
