// What a serializer (and the queue around it) agrees to load. Loading a
// payload can run code, so whoever can write a row in the queue database
// can make workers run code unless these rules stop them. Every option is
// here with its default; `resolvePolicy` turns them into one `Policy` object
// that the envelope code consults when writing and, above all, when opening
// a payload (open.ts), which is the trust boundary.

import v8 from 'node:v8';
import type { EncodedCall } from './backend.js';
import { v8Depth, jsonDepth, type DepthScan } from './depth-scan.js';
import {
  FLAG_SIGNED,
  looksLikeEnvelope,
  type EnvelopeSigner,
  type OpenedEnvelope,
} from './envelope.js';
import { SerializerOptionError, PolicyViolationError } from './errors.js';
import {
  scanCode,
  type CodeFinding,
  type CodeScanOptions,
} from './policy-code-scan.js';
import {
  classifyModule,
  compileModulePattern,
  ModuleRefusal,
  type ClassifiedModule,
  type ModulePattern,
} from './policy-modules.js';
import { DEFAULT_DENY_NAMES, DenyList, showName } from './policy-names.js';
import { Keyring, SignatureError, type SigningKeyInput } from './signing.js';
import { RESERVED_PREFIX } from './source/factory-code.js';

export { DEFAULT_DENY_NAMES } from './policy-names.js';
export { SignatureError, SigningKeyError } from './signing.js';
export type { SigningKeyInput } from './signing.js';

export interface PolicyOptions {
  /**
   * Modules whose functions may run, as strings or RegExps (see
   * `compileModulePattern`: `'src/jobs'`, `'src/**\/*.job.ts'`,
   * `'lodash-es'`, `'node:crypto'`). Checked when a job is enqueued and
   * again when it is loaded. Paths outside the root are refused whatever
   * this says.
   * Default: undefined, which allows files under the root and installed
   * packages, but not Node.js builtins (a payload naming
   * `node:fs`.`writeFileSync` is refused unless you list `node:fs`).
   */
  allowModules?: ReadonlyArray<string | RegExp>;
  /**
   * Names refused as function and export names, as identifiers and
   * properties in source payloads (found by parsing, not by text search),
   * and, for module names, as module specifiers. Lookalikes (Cyrillic 'е'
   * in `eval`) are refused too, and so are dynamic `import()`, `with` and
   * computed access on globals in source code. Replaces the default list;
   * extend it with `[...DEFAULT_DENY_NAMES, 'mine']`. An empty list turns
   * all of these checks off.
   * Default: DEFAULT_DENY_NAMES (eval, Function, child_process and its
   * exec/spawn family, vm.runIn*, process.binding, require, ...).
   */
  denyNames?: readonly string[];
  /**
   * Accept only payloads that name their function (by module reference,
   * 'v8', or by registered name, 'json'). Source payloads are refused
   * before any of their code is parsed or run, on enqueue and on load.
   * Default: false.
   */
  strict?: boolean;
  /**
   * Secret for HMAC-SHA256 signatures: a string or bytes (16 at least,
   * 32 random bytes recommended), or `{ id, secret }`. With a key, every
   * payload written is signed and every payload read must carry a valid
   * signature, checked before anything else in it is parsed. `null` turns
   * signing off even when the environment sets a key.
   * Default: process.env.DUCKQUEUE_SIGNING_KEY, else no signing.
   */
  signingKey?: SigningKeyInput | null;
  /**
   * Older keys still accepted on load, for rotation: sign with the new
   * key, keep the old one here until its payloads have drained. Payloads
   * carry the id of the key that signed them.
   * Default: [].
   */
  verifyKeys?: readonly SigningKeyInput[];
  /**
   * Payloads larger than this are refused before they are opened.
   * Default: 16 MiB.
   */
  maxPayloadBytes?: number;
  /**
   * Arguments nested deeper than this (objects, arrays, maps, sets) are
   * refused by a linear pre-scan, before a recursive decoder sees them.
   * Default: 200.
   */
  maxDepth?: number;
}

export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 200;
export const SIGNING_KEY_ENV = 'DUCKQUEUE_SIGNING_KEY';

const OPTION_NAMES = [
  'allowModules',
  'denyNames',
  'strict',
  'signingKey',
  'verifyKeys',
  'maxPayloadBytes',
  'maxDepth',
] as const;

/** Formats that name their function instead of carrying code. */
const NAMED_FUNCTION_FORMATS = new Set(['v8', 'json']);

/** The policy rule a refusal came from, as the option's name. */
export type PolicyRule =
  | 'allowModules'
  | 'denyNames'
  | 'strict'
  | 'signingKey'
  | 'maxPayloadBytes'
  | 'maxDepth';

/** Depth pre-scanners by the name a backend gives its body encoding. */
export const DEPTH_SCANNERS: Record<
  string,
  (bytes: Uint8Array, limit: number, keys?: ReadonlySet<string>) => DepthScan
> = { v8: v8Depth, json: jsonDepth, source: v8Depth };

/** Object keys that reach a prototype when data is merged somewhere. */
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'];

/** Parsed code checks kept per Policy; more distinct texts clear it. */
const SCAN_CACHE_LIMIT = 1000;
/** Module specifiers classified per Policy; more clear the cache. */
const MODULE_CACHE_LIMIT = 1000;

/** The parts of a source body (source/encode.ts) the policy reads. */
export interface SourceBodyShape {
  holes: unknown[];
  imports: unknown[];
}

/** A module reference and the export taken from it, to be checked. */
export interface ModuleReference {
  module: string;
  exportName?: string;
  /** Where the reference was found, for messages (`fn`, `import 2`). */
  where: string;
}

export class Policy {
  readonly strict: boolean;
  readonly maxPayloadBytes: number;
  readonly maxDepth: number;
  readonly root: string;
  readonly keyring: Keyring | null;
  readonly deny: DenyList;
  private readonly allow: ModulePattern[] | null;
  private readonly prototypeKeys: ReadonlySet<string>;
  private readonly scans = new Map<string, CodeFinding | null>();
  private readonly modules = new Map<string, ClassifiedModule | ModuleRefusal>();
  private readonly passedHeaders = new WeakSet<object>();
  /** Source bodies checkOutgoingSource passed, by their encoded bytes. */
  private readonly checkedSource = new WeakSet<Uint8Array>();

  constructor(options: ResolvedPolicyOptions, root: string) {
    this.strict = options.strict;
    this.maxPayloadBytes = options.maxPayloadBytes;
    this.maxDepth = options.maxDepth;
    this.root = root;
    this.deny = new DenyList(options.denyNames);
    this.allow = options.allowModules?.map(compileModulePattern) ?? null;
    this.prototypeKeys = new Set(PROTOTYPE_KEYS.filter((k) => this.deny.has(k)));
    this.keyring =
      options.signingKey !== null || options.verifyKeys.length > 0
        ? new Keyring(options.signingKey, options.verifyKeys)
        : null;
    const signer = this.keyring?.signer;
    this.sign = signer
      ? Object.assign((covered: Uint8Array) => signer.signature(covered), {
          signatureLength: signer.signatureLength,
          signInto: (covered: Uint8Array, target: Uint8Array, at: number) =>
            signer.signInto(covered, target, at),
        })
      : undefined;
  }

  /** True when payloads written under this policy are signed. */
  get signs(): boolean {
    return this.keyring?.signer !== undefined;
  }

  /** The signer for encodeEnvelope, or undefined when not signing. */
  readonly sign: EnvelopeSigner | undefined;

  // ---- on write ---------------------------------------------------------

  /** Checks a call a backend encoded, before it is written. */
  checkOutgoing(encoded: EncodedCall): void {
    if (this.keyring && !this.keyring.signer) {
      throw refused(
        'signingKey',
        'this serializer has verifyKeys but no signingKey, so it cannot ' +
          'sign what it writes and its own workers would refuse it',
        'set signingKey (the newest key) next to verifyKeys',
      );
    }
    this.checkFormat(encoded.format, 'write');
    this.checkHeader(encoded.header);
    // A job no worker would accept is refused now, not after it waited.
    if (encoded.body.length > this.maxPayloadBytes) {
      throw refused(
        'maxPayloadBytes',
        `the arguments take ${encoded.body.length} bytes, over the limit ` +
          `of ${this.maxPayloadBytes} that workers accept`,
        'pass large data by reference (a path or an id) instead of as an ' +
          'argument, or raise maxPayloadBytes',
      );
    }
    // A source payload carries code: what a worker would refuse on load
    // is refused now. The source backend checks its body before encoding
    // it (checkOutgoingSource); any other is decoded and checked here.
    if (encoded.format === 'source' && !this.checkedSource.has(encoded.body)) {
      this.checkSourceBody(v8.deserialize(encoded.body) as SourceBodyShape);
    }
  }

  /**
   * The load-time checks of a source body, run before it is written:
   * names, imports and function texts (checkSourceBody), then `compiled`,
   * the exact code a loader compiles for each function, as [where, code].
   * Parsed texts are cached, so a function sent again is not parsed
   * again. `bytes`, the encoded body, is not decoded by checkOutgoing.
   */
  checkOutgoingSource(
    body: SourceBodyShape,
    compiled: Iterable<readonly [where: string, code: string]>,
    bytes: Uint8Array,
  ): void {
    this.checkFormat('source', 'write');
    this.checkSourceBody(body);
    for (const [where, code] of compiled) this.checkSourceCode(code, where);
    this.checkedSource.add(bytes);
  }

  // ---- on load: the boundary --------------------------------------------

  /**
   * Checks that run before the envelope is parsed: type, size and, with a
   * key configured, the signature. Only the fixed preamble (magic, flags)
   * and the trailing signature field are read.
   */
  checkRaw(bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) return;
    if (bytes.length > this.maxPayloadBytes) {
      throw refused(
        'maxPayloadBytes',
        `payload is ${bytes.length} bytes, over the limit of ` +
          `${this.maxPayloadBytes}`,
        'pass large data by reference (a path or an id) instead of as an ' +
          'argument, or raise maxPayloadBytes',
      );
    }
    if (!this.keyring) return;
    if (!looksLikeEnvelope(bytes) || bytes.length < 6) {
      throw new SignatureError(
        'payload is not a signed duckqueue envelope and a signing key is ' +
          'configured; refusing it unread',
      );
    }
    if ((bytes[5]! & FLAG_SIGNED) === 0) {
      throw new SignatureError(
        'payload is not signed and a signing key is configured; it was ' +
          'written by a producer without the key, or by someone else',
      );
    }
    this.keyring.verify(bytes);
  }

  /** Checks on the opened envelope, before its body is decoded. */
  checkOpened(envelope: OpenedEnvelope): void {
    this.checkFormat(envelope.format, 'load');
    this.checkHeader(envelope.header);
    if (envelope.format in DEPTH_SCANNERS) {
      this.checkDepth(envelope.body, envelope.format, 'args');
    }
  }

  /**
   * Depth pre-scan of an encoded value (`encoding` names a scanner in
   * DEPTH_SCANNERS: 'v8' or 'json'). Call before decoding it.
   */
  checkDepth(bytes: Uint8Array, encoding: string, where: string): void {
    const scanner = DEPTH_SCANNERS[encoding];
    if (!scanner) return;
    const scan = scanner(bytes, this.maxDepth, this.prototypeKeys);
    if (scan.exceeded) {
      throw refused(
        'maxDepth',
        `${where} is nested more than ${this.maxDepth} levels deep`,
        'flatten the data, or raise maxDepth',
      );
    }
    if (scan.key !== undefined) {
      throw refused(
        'denyNames',
        `${where} contain the object key '${scan.key}', which can ` +
          'reach a prototype when the data is merged into an object',
        'rename the key, or remove it from denyNames if no job merges ' +
          'its arguments',
      );
    }
  }

  /**
   * Checks a module reference: one a by-reference payload loads its
   * function from, or one a source payload imports.
   */
  checkModule(ref: ModuleReference, use: 'function' | 'import'): void {
    const shown = showName(String(ref.module));
    // Denied names first, so a lookalike of a builtin is reported as such.
    const denied =
      typeof ref.module === 'string' ? this.deny.match(ref.module) : null;
    if (denied) {
      throw refused(
        'denyNames',
        `${ref.where} names module '${shown}', ` +
          (denied.kind === 'exact'
            ? `and '${denied.denied}' is in denyNames`
            : `which looks like the denied module '${denied.denied}'`),
        'a job may not run code from modules that run other code',
      );
    }
    const classified = this.classify(ref.module);
    if (classified instanceof ModuleRefusal) {
      throw refused(
        'allowModules',
        `${ref.where} names module '${shown}', which cannot be loaded: ` +
          classified.why,
        'export the function from a module under the root',
      );
    }
    const listed = this.allow?.some((matches) => matches(classified.normal));
    if (this.allow ? !listed : use === 'function' && classified.kind === 'builtin') {
      throw refused(
        'allowModules',
        `${ref.where} names module '${classified.normal}', which ` +
          (this.allow
            ? 'allowModules does not list'
            : 'is a Node.js builtin; builtins run as jobs only when ' +
              'allowModules lists them'),
        `add '${classified.normal}' to allowModules if it is meant to run`,
      );
    }
    if (ref.exportName !== undefined) {
      this.checkName(ref.exportName, `${ref.where} export`);
    }
  }

  /**
   * Refuses a function, export or task name that denyNames covers. A
   * dotted path ('process.binding', a builtin a source payload captures)
   * is refused when any of its segments is.
   */
  checkName(name: unknown, where: string): void {
    if (typeof name !== 'string') return;
    const segments = name.includes('.') ? [name, ...name.split('.')] : [name];
    for (const segment of segments) {
      const denied = this.deny.match(segment);
      if (!denied) continue;
      throw refused(
        'denyNames',
        `${where} '${showName(name)}' ` +
          (denied.kind === 'lookalike'
            ? `looks like the denied name '${denied.denied}'`
            : segment === name
              ? 'is in denyNames'
              : `uses '${denied.denied}', which is in denyNames`),
        'rename the function, or remove the name from denyNames if it is ' +
          'really safe',
      );
    }
  }

  /**
   * Parses source code that is about to be compiled and refuses it when
   * it uses a denied name, reaches a denied module dynamically, or cannot
   * be parsed. Call with exactly the text that will be compiled. Results
   * are cached by text, so a function loaded again is not parsed again.
   */
  checkSourceCode(
    code: string,
    where: string,
    scan: Omit<CodeScanOptions, 'deny'> = {},
  ): void {
    if (this.strict) this.checkFormat('source', 'load');
    if (this.deny.size === 0) return;
    const bindings = scan.moduleBindings
      ? [...scan.moduleBindings].map(([k, v]) => `${k}=${v}`).join(',')
      : '';
    const key =
      `${scan.as ?? 'body'}|${scan.reservedPrefix ?? ''}|${bindings}|${code}`;
    let finding = this.scans.get(key);
    if (finding === undefined) {
      finding = scanCode(code, { ...scan, deny: this.deny });
      if (this.scans.size >= SCAN_CACHE_LIMIT) this.scans.clear();
      this.scans.set(key, finding);
    }
    if (!finding) return;
    throw refused(
      'denyNames',
      `${where} uses ${finding.what} at offset ${finding.at}: ${finding.why}`,
      'export the function from a module and enqueue it by reference',
    );
  }

  /**
   * Checks a decoded source body before anything in it is imported or
   * compiled: every import, every builtin path, every captured `require`,
   * and the text of every function (with the names bound to imported
   * modules, so `cp['ex' + 'ec']` is seen as reaching child_process).
   */
  checkSourceBody(body: SourceBodyShape): void {
    if (this.strict) this.checkFormat('source', 'load');
    const imports = Array.isArray(body.imports) ? body.imports : [];
    const holes = Array.isArray(body.holes) ? body.holes : [];
    // Names first, then code, then imports: the most specific reason wins.
    holes.forEach((hole) => {
      const h = hole as Record<string, unknown> | null;
      if (h?.k === 'builtin') this.checkName(h.path, 'builtin');
      else if (h?.k === 'require') this.checkName('require', 'captured variable');
    });
    holes.forEach((hole, index) => {
      const h = hole as Record<string, unknown> | null;
      if (h?.k !== 'fn' || typeof h.src !== 'string') return;
      const code = h.form === 'method' ? `{${h.src}\n}` : h.src;
      this.checkSourceCode(code, `function ${index}`, {
        as: 'expression',
        moduleBindings: importBindings(h.caps, holes, imports),
        // Function text never reads the loader's own names.
        reservedPrefix: RESERVED_PREFIX,
      });
    });
    imports.forEach((entry, i) => {
      if (!Array.isArray(entry)) return;
      const [module, name] = entry as unknown[];
      this.checkModule(
        {
          module: module as string,
          exportName: name === '*' || typeof name !== 'string' ? undefined : name,
          where: `import ${i}`,
        },
        'import',
      );
    });
  }

  /**
   * classifyModule, remembered per specifier: resolving symlinks costs a
   * file system call per path segment, on every enqueue and every load.
   */
  private classify(specifier: unknown): ClassifiedModule | ModuleRefusal {
    if (typeof specifier !== 'string') return classifyModule(specifier, this.root);
    let known = this.modules.get(specifier);
    if (known === undefined) {
      known = classifyModule(specifier, this.root);
      if (this.modules.size >= MODULE_CACHE_LIMIT) this.modules.clear();
      this.modules.set(specifier, known);
    }
    return known;
  }

  private checkFormat(format: string, when: 'write' | 'load'): void {
    if (!this.strict || NAMED_FUNCTION_FORMATS.has(format)) return;
    throw refused(
      'strict',
      `${when === 'write' ? 'writing' : 'loading'} a '${format}' payload, ` +
        'which carries code, while strict is on',
      'export the function from a module (v8) or register it by name ' +
        "with registerTask (json), or turn strict off",
    );
  }

  private checkHeader(header: EncodedCall['header']): void {
    // Frozen headers are shared (parsed once, or one per function) and
    // cannot change after passing.
    if (this.passedHeaders.has(header)) return;
    if (header.task !== undefined) this.checkName(header.task, 'task');
    if (typeof header.module === 'string') {
      this.checkModule(
        { module: header.module, exportName: header.exportName, where: 'fn' },
        'function',
      );
    } else if (header.exportName !== undefined) {
      this.checkName(header.exportName, 'function');
    }
    this.checkName(header.fnName, 'function name');
    if (Object.isFrozen(header)) this.passedHeaders.add(header);
  }
}

export interface ResolvedPolicyOptions {
  allowModules: ReadonlyArray<string | RegExp> | null;
  denyNames: readonly string[];
  strict: boolean;
  signingKey: SigningKeyInput | null;
  verifyKeys: readonly SigningKeyInput[];
  maxPayloadBytes: number;
  maxDepth: number;
}

/** Capture name -> module specifier, for captures bound to imports. */
function importBindings(
  caps: unknown,
  holes: unknown[],
  imports: unknown[],
): Map<string, string> {
  const bindings = new Map<string, string>();
  for (const cap of Array.isArray(caps) ? caps : []) {
    const [name, slot] = Array.isArray(cap) ? cap : [];
    const target = (slot as { h?: unknown } | undefined)?.h;
    const hole = typeof target === 'number' ? holes[target] : undefined;
    const ref = hole as { k?: unknown; i?: unknown } | undefined;
    const entry = ref?.k === 'import' ? imports[ref.i as number] : undefined;
    if (typeof name === 'string' && Array.isArray(entry)) {
      bindings.set(name, String(entry[0]));
    }
  }
  return bindings;
}

/** Validates options, fills in defaults and builds the Policy. */
export function resolvePolicy(
  options: PolicyOptions = {},
  root: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): Policy {
  return new Policy(resolvePolicyOptions(options, env), root);
}

export function resolvePolicyOptions(
  options: PolicyOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): ResolvedPolicyOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new SerializerOptionError(
      'policy options must be an object such as { strict: true }, got ' +
        (Array.isArray(options) ? 'an array' : String(options)),
    );
  }
  for (const key of Object.keys(options)) {
    if (!(OPTION_NAMES as readonly string[]).includes(key)) {
      throw new SerializerOptionError(
        `unknown policy option '${key}'; valid options: ` +
          OPTION_NAMES.join(', '),
      );
    }
  }
  const allowModules = options.allowModules ?? null;
  if (
    allowModules !== null &&
    (!Array.isArray(allowModules) ||
      !allowModules.every((p) => typeof p === 'string' || p instanceof RegExp))
  ) {
    throw new SerializerOptionError(
      'policy.allowModules must be an array of strings or RegExps, e.g. ' +
        "['src/jobs', 'lodash-es']",
    );
  }
  allowModules?.forEach((p, i) => {
    const never = typeof p === 'string' ? unmatchableModule(p) : null;
    if (never !== null) {
      throw new SerializerOptionError(
        `policy.allowModules[${i}] ${JSON.stringify(p)} can never match: ` +
          `${never}. Name a builtin ('node:crypto'), a package ` +
          "('lodash-es') or a path under the root ('src/jobs', '**')",
      );
    }
  });
  const denyNames = options.denyNames ?? DEFAULT_DENY_NAMES;
  if (!Array.isArray(denyNames) || !denyNames.every((n) => typeof n === 'string')) {
    throw new SerializerOptionError(
      'policy.denyNames must be an array of strings; extend the default ' +
        'with [...DEFAULT_DENY_NAMES, name]',
    );
  }
  const strict = options.strict ?? false;
  if (typeof strict !== 'boolean') {
    throw new SerializerOptionError(
      `policy.strict must be true or false, got ${String(strict)}`,
    );
  }
  const fromEnv = env[SIGNING_KEY_ENV];
  const signingKey =
    options.signingKey === undefined
      ? fromEnv !== undefined && fromEnv !== ''
        ? fromEnv
        : null
      : options.signingKey;
  const verifyKeys = options.verifyKeys ?? [];
  if (!Array.isArray(verifyKeys)) {
    throw new SerializerOptionError(
      'policy.verifyKeys must be an array of keys (strings, bytes or ' +
        '{ id, secret })',
    );
  }
  if (signingKey !== null) checkKeyShape('policy.signingKey', signingKey);
  for (let i = 0; i < verifyKeys.length; i++) {
    checkKeyShape(`policy.verifyKeys[${i}]`, verifyKeys[i]);
  }
  return {
    allowModules,
    denyNames,
    strict,
    signingKey,
    verifyKeys,
    maxPayloadBytes: positiveInteger(
      options.maxPayloadBytes,
      DEFAULT_MAX_PAYLOAD_BYTES,
      'maxPayloadBytes',
    ),
    maxDepth: positiveInteger(options.maxDepth, DEFAULT_MAX_DEPTH, 'maxDepth'),
  };
}

/**
 * Why an allowModules string matches no module, or null. Files are
 * matched by their path relative to the root, and paths outside the root
 * are refused before the list is read.
 */
function unmatchableModule(pattern: string): string | null {
  const text = pattern.trim().replace(/^\.\//, '').replace(/\/+$/, '');
  if (text === '' || text === '.') {
    return 'it names no module (leave allowModules unset, or use ' +
      "'**' for every file under the root)";
  }
  if (text.split(/[\\/]/).includes('..')) {
    return "a path with '..' leaves the root, and modules outside the " +
      'root are always refused';
  }
  if (text.startsWith('/') || /^[a-z]:/i.test(text) || text.includes('\\')) {
    return 'files are matched by their path relative to the root, with ' +
      "'/' separators";
  }
  return null;
}

/**
 * A key's shape, checked here so a wrong type names the option; its
 * length and id length are checked where the key is made (signing.ts).
 */
function checkKeyShape(option: string, key: unknown): void {
  if (typeof key === 'string' || key instanceof Uint8Array) return;
  const shape = key as { id?: unknown; secret?: unknown } | null;
  const ok =
    typeof key === 'object' &&
    shape !== null &&
    !Array.isArray(key) &&
    (typeof shape.secret === 'string' || shape.secret instanceof Uint8Array) &&
    (shape.id === undefined || typeof shape.id === 'string');
  if (!ok) {
    throw new SerializerOptionError(
      `${option} must be a string or bytes (the secret), or { id, secret } ` +
        'with a string id and a string or bytes secret; got ' +
        describeKey(key),
    );
  }
}

function describeKey(key: unknown): string {
  if (key === null || typeof key !== 'object') return String(key);
  if (Array.isArray(key)) return 'an array';
  const { id, secret } = key as { id?: unknown; secret?: unknown };
  return `{ id: ${typeof id}, secret: ${typeof secret} }`;
}

function positiveInteger(
  value: number | undefined,
  fallback: number,
  name: string,
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new SerializerOptionError(
      `policy.${name} must be a positive integer, got ${String(value)}`,
    );
  }
  return value;
}

/** A PolicyViolationError whose message names the rule and the fix. */
export function refused(
  rule: PolicyRule,
  what: string,
  fix: string,
): PolicyViolationError {
  const error = new PolicyViolationError(
    `refused by policy.${rule}: ${what}. To fix: ${fix}.`,
  );
  Object.defineProperty(error, 'rule', { value: rule, enumerable: true });
  return error;
}

/** The rule a PolicyViolationError came from, when one of ours made it. */
export function ruleOf(error: unknown): PolicyRule | undefined {
  if (error instanceof SignatureError) return 'signingKey';
  const rule = (error as { rule?: unknown } | null)?.rule;
  return typeof rule === 'string' ? (rule as PolicyRule) : undefined;
}
