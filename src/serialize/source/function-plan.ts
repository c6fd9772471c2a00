// Works out, once per function object, how the source backend carries it:
// as a builtin path, an import, a bound function, or its text plus the
// variables it captures (and where each capture's value comes from).

import v8 from 'node:v8';
import { builtinExportOf } from '../builtins.js';
import { NotSerializableError } from '../errors.js';
import { getInspector, type RemoteObject, type ScopeRef } from '../inspector.js';
import { locateExport } from '../locate.js';
import { filePathOf, moduleIdFor } from '../module-ref.js';
import { parsedScript, type AnyNode, type ParsedScript } from '../script-analysis.js';
import { isDeclaredAround, isReassignable } from './bindings.js';
import { RESERVED_PREFIX } from './factory-code.js';
import { analyzeFunctionText, type FunctionText } from './function-text.js';
import { builtinPathOf, isBuiltinGlobal } from './globals.js';
import { carrySuperclass } from './superclass.js';

export type Capture =
  /** An import binding: re-imported on load, never copied. */
  | { name: string; from: 'import'; module: string; export: string }
  /** A binding nothing reassigns: its value, read once. */
  | { name: string; from: 'fixed'; value: unknown }
  /** A binding that may change: re-read from scope `scope` every time. */
  | { name: string; from: 'scope'; scope: number }
  /** A global the program defined (REPL or `node -e` functions). */
  | { name: string; from: 'global' }
  /** CommonJS `require` of the function's own module. */
  | { name: string; from: 'require'; module: string }
  /** A class's superclass, bound to a name its rewritten text uses. */
  | { name: string; from: 'superclass'; value: unknown };

export interface SourcePlan {
  kind: 'source';
  fn: Function;
  text: FunctionText;
  strict: boolean;
  captures: Capture[];
  /** Some capture must be re-read through the inspector each time. */
  live: boolean;
}

export type FunctionPlan =
  | { kind: 'builtin'; path: string }
  | { kind: 'import'; module: string; name: string }
  | { kind: 'bound'; target: Function; thisArg: unknown; args: unknown[] }
  | SourcePlan;

interface Cached {
  root: string;
  plan: FunctionPlan | NotSerializableError;
}

const plans = new WeakMap<Function, Cached>();

// V8 describes a variable still in its temporal dead zone as undefined
// unless --experimental-value-unavailable is on; with it, the variable has
// no value at all (the default from V8 12). The flag only changes how the
// inspector describes scopes, for [[Scopes]] read after it is set.
v8.setFlagsFromString('--experimental-value-unavailable');

/** Refusals that hold only for now: they are thrown, never cached. */
const forNow = new WeakSet<NotSerializableError>();

/** The plan for `fn`, computed once per function object (and root). */
export function planFunction(fn: Function, root: string, path: string): FunctionPlan {
  let cached = plans.get(fn);
  if (!cached || cached.root !== root) {
    let plan: FunctionPlan | NotSerializableError;
    try {
      plan = planUncached(fn, root, path);
    } catch (err) {
      if (!(err instanceof NotSerializableError) || forNow.has(err)) throw err;
      plan = err;
    }
    cached = { root, plan };
    plans.set(fn, cached);
  }
  if (cached.plan instanceof NotSerializableError) {
    const err = cached.plan;
    if (err.path === path) throw err;
    throw new NotSerializableError(path, err.reason, err.advice, { cause: err });
  }
  return cached.plan;
}

function refuseSelf(path: string, reason: string, advice: string): NotSerializableError {
  return new NotSerializableError(path, reason, advice);
}

function label(fn: Function): string {
  return fn.name ? `function '${fn.name}'` : 'an anonymous function';
}

function planUncached(fn: Function, root: string, path: string): FunctionPlan {
  const builtin = builtinPathOf(fn);
  if (builtin) return { kind: 'builtin', path: builtin };
  const exported = builtinExportOf(fn);
  if (exported) return { kind: 'import', module: exported.module, name: exported.name };
  const inspector = getInspector();
  const remote = inspector.remote(fn);
  const facts = inspector.functionFacts(remote.objectId!);
  if (facts.bound) {
    const [target, thisArg] = inspector.values([facts.bound.target, facts.bound.thisArg]);
    const args = facts.bound.argsId
      ? inspector.values(
          inspector.ownProperties(facts.bound.argsId)
            .filter((v) => /^\d+$/.test(v.name))
            .map((v) => v.value),
        )
      : [];
    return { kind: 'bound', target: target as Function, thisArg, args };
  }
  if (!facts.location) {
    throw refuseSelf(
      path,
      `${label(fn)} is native code with no JavaScript source`,
      'Call it from a function of your own and send that function.',
    );
  }
  const { scriptId } = facts.location;
  const url = inspector.scriptUrl(scriptId);
  if (url.startsWith('node:')) {
    throw refuseSelf(
      path,
      `${label(fn)} is internal to Node.js (${url}) and not exported by a ` +
        'public builtin module',
      'Import the public function it belongs to and call that instead.',
    );
  }
  const file = filePathOf(url);
  if (file?.includes('/node_modules/')) {
    try {
      const ref = locateExport(fn, root, path);
      return { kind: 'import', module: ref.module, name: ref.exportName };
    } catch (err) {
      if (!(err instanceof NotSerializableError)) throw err;
      // Not importable by name: carry its source like any other function.
    }
  }
  const source = Function.prototype.toString.call(fn);
  let text: FunctionText;
  try {
    text = analyzeFunctionText(source);
  } catch {
    throw refuseSelf(
      path,
      `the source text of ${label(fn)} cannot be parsed back into a function`,
      'Write it as a plain function, arrow function or class.',
    );
  }
  if (text.lexical) {
    const what =
      text.lexical === 'super'
        ? `${label(fn)} is a method that uses 'super', which belongs to its class`
        : `${label(fn)} is an arrow function that uses '${text.lexical}' ` +
          'of the code around it';
    throw refuseSelf(
      path,
      what,
      text.lexical === 'super'
        ? 'Send the class (or an instance of it) instead of the method.'
        : `Pass what '${text.lexical}' holds as an argument instead.`,
    );
  }
  const script = parsedScript(scriptId, () => ({
    source: inspector.scriptSource(scriptId),
    url,
  }));
  const site = script.functionAt(
    script.offsetOf(facts.location.line, facts.location.column),
  );
  const ancestors = site?.ancestors ?? [];
  const strict =
    script.isModule ||
    text.kind === 'class' ||
    text.strictDirective ||
    hasStrictAncestor(ancestors) ||
    (site ? isInClass(ancestors) : false);
  const plan: SourcePlan = {
    kind: 'source',
    fn,
    text,
    strict,
    captures: [],
    live: false,
  };
  if (text.free.length === 0) return plan;
  const found = findCaptures(
    text,
    facts.scopesId,
    script,
    ancestors,
    url,
    root,
    text.superclass?.identifier,
  );
  // The loader compiles the text next to its own helpers (factory-code.ts):
  // a free name like theirs, defined nowhere here, would read one of them.
  // (Captured ones are refused by the encoder, naming the capture.)
  const reserved = found.missing.find((name) => name.startsWith(RESERVED_PREFIX));
  if (reserved !== undefined) {
    throw refuseSelf(
      path,
      `${label(fn)} reads '${reserved}'; names starting with ` +
        `'${RESERVED_PREFIX}' are reserved for the code that rebuilds ` +
        'functions when a job is loaded',
      'Rename the variable.',
    );
  }
  const early = found.uninitialized.find((name) => plan.text.free.includes(name));
  if (early !== undefined) {
    const err = refuseSelf(
      path,
      `${label(fn)} reads '${early}' before its declaration has run (it is ` +
        'in its temporal dead zone), so it has no value to send yet',
      `Serialize the function once '${early}' is initialized, or pass ` +
        'the value as an argument.',
    );
    forNow.add(err);
    throw err;
  }
  const carried = carrySuperclass(fn, text, found.captures, found.probed);
  plan.text = carried.text;
  plan.captures = carried.captures;
  plan.live = plan.captures.some((c) => c.from === 'scope');
  for (const name of found.missing) {
    if (plan.text.free.includes(name) && isDeclaredAround(ancestors, name)) {
      throw refuseSelf(
        path,
        unkeptReason(fn, plan.text, name),
        unkeptAdvice(plan.text, name),
      );
    }
  }
  return plan;
}

/**
 * V8 keeps a variable in a closure only if a function reads it later. A
 * class reads some names once, while it is defined (a computed member
 * name); those may exist nowhere the inspector can reach afterwards.
 */
function unkeptReason(fn: Function, text: FunctionText, name: string): string {
  const what =
    text.kind === 'class'
      ? fn.name ? `class '${fn.name}'` : 'an anonymous class'
      : label(fn);
  const when = text.eager.includes(name)
    ? ' while the class is being defined (a computed member name)'
    : '';
  return (
    `${what} reads '${name}'${when}, and V8 did not keep that variable ` +
    'where it can be read back (it keeps only variables that some ' +
    'function reads later, once they are initialized)'
  );
}

function unkeptAdvice(text: FunctionText, name: string): string {
  if (!text.eager.includes(name)) return `Pass '${name}' as an argument.`;
  return (
    `Use a literal member name, or also read '${name}' inside the class ` +
    `body (e.g. \`static key = ${name}\`) so V8 keeps the variable.`
  );
}

function hasStrictAncestor(ancestors: readonly AnyNode[]): boolean {
  return ancestors.some((node) => {
    const body = node.type === 'Program' ? node : node.body;
    const statements: AnyNode[] | undefined =
      body?.type === 'BlockStatement' || body?.type === 'Program' ? body.body : undefined;
    return !!statements?.some(
      (s) => s.type === 'ExpressionStatement' && s.directive === 'use strict',
    );
  });
}

function isInClass(ancestors: readonly AnyNode[]): boolean {
  return ancestors.some((n) => n.type === 'ClassBody');
}

interface Found {
  scopeIndex: number;
  scope: ScopeRef;
  /** Undefined while the variable is uninitialized (let/const/class). */
  value: RemoteObject | undefined;
}

interface FoundCaptures {
  captures: Capture[];
  /** Free names found neither in the scope chain nor among globals. */
  missing: string[];
  /** What the `probe` name refers to now, when it could be read. */
  probed: { value: unknown } | undefined;
  /** Free names whose variable exists but is not initialized yet. */
  uninitialized: string[];
}

/** Variables of a scope object; `value` is undefined if uninitialized. */
function scopeVariables(
  objectId: string,
): { name: string; value: RemoteObject | undefined }[] {
  const res = getInspector().post<{
    result: { name: string; value?: RemoteObject }[];
  }>('Runtime.getProperties', {
    objectId,
    ownProperties: true,
    generatePreview: false,
  });
  return res.result.map((p) => ({ name: p.name, value: p.value }));
}

function findCaptures(
  text: FunctionText,
  scopesId: string | undefined,
  script: ParsedScript,
  ancestors: readonly AnyNode[],
  url: string,
  root: string,
  probe: string | undefined,
): FoundCaptures {
  const inspector = getInspector();
  const chain = scopesId ? inspector.scopeChain(scopesId) : [];
  const found = new Map<string, Found>();
  const wanted = new Set(text.free);
  chain.forEach((scope, scopeIndex) => {
    if (scope.type === 'global' || found.size === wanted.size) return;
    for (const v of scopeVariables(scope.objectId)) {
      if (wanted.has(v.name) && !found.has(v.name)) {
        found.set(v.name, { scopeIndex, scope, value: v.value });
      }
    }
  });
  const outermostClosure = chain.findLastIndex((s) => s.type === 'closure');
  const imports = script.imports(root);
  const captures: Capture[] = [];
  const missing: string[] = [];
  const uninitialized: string[] = [];
  const fixed: { capture: Capture & { from: 'fixed' }; remote: RemoteObject }[] = [];
  for (const name of text.free) {
    const hit = found.get(name);
    if (!hit) {
      if (isBuiltinGlobal(name)) continue;
      if (name in globalThis) captures.push({ name, from: 'global' });
      else missing.push(name);
      continue;
    }
    if (hit.value === undefined) {
      uninitialized.push(name);
      continue;
    }
    const isTopLevel =
      hit.scope.type === 'module' ||
      (!script.isModule && hit.scopeIndex === outermostClosure);
    const imported = isTopLevel ? imports.get(name) : undefined;
    if (imported && !isReassignable(ancestors, name)) {
      captures.push({
        name,
        from: 'import',
        module: imported.module,
        export: imported.name,
      });
      continue;
    }
    if (name === 'require' && isTopLevel && !script.isModule) {
      const module = moduleIdFor(url, root);
      if (module) {
        captures.push({ name, from: 'require', module });
        continue;
      }
    }
    if (isReassignable(ancestors, name)) {
      captures.push({ name, from: 'scope', scope: hit.scopeIndex });
    } else {
      const capture = { name, from: 'fixed' as const, value: undefined as unknown };
      captures.push(capture);
      fixed.push({ capture, remote: hit.value });
    }
  }
  const probeHit = probe === undefined ? undefined : found.get(probe);
  const remotes = fixed.map((f) => f.remote);
  if (probeHit?.value) remotes.push(probeHit.value);
  const values = inspector.values(remotes);
  fixed.forEach((f, i) => {
    f.capture.value = values[i];
  });
  let probed: { value: unknown } | undefined;
  if (probeHit?.value) probed = { value: values[fixed.length] };
  else if (probe !== undefined && probe in globalThis) {
    probed = { value: (globalThis as Record<string, unknown>)[probe] };
  }
  return { captures, missing, probed, uninitialized };
}

/**
 * Current values of the captures a plan must re-read, by name. One
 * inspector pass: the function, its scope chain, the scopes needed.
 */
export function readLiveCaptures(plan: SourcePlan): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (!plan.live) return out;
  const inspector = getInspector();
  const facts = inspector.functionFacts(inspector.remote(plan.fn).objectId!);
  const chain = facts.scopesId ? inspector.scopeChain(facts.scopesId) : [];
  const byScope = new Map<number, string[]>();
  for (const c of plan.captures) {
    if (c.from !== 'scope') continue;
    const list = byScope.get(c.scope) ?? [];
    list.push(c.name);
    byScope.set(c.scope, list);
  }
  const names: string[] = [];
  const remotes: RemoteObject[] = [];
  for (const [index, wanted] of byScope) {
    const scope = chain[index];
    if (!scope) continue;
    for (const v of inspector.ownProperties(scope.objectId)) {
      if (wanted.includes(v.name)) {
        names.push(v.name);
        remotes.push(v.value);
      }
    }
  }
  inspector.values(remotes).forEach((value, i) => out.set(names[i]!, value));
  return out;
}
