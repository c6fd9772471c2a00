// Finds denied names in JavaScript text by parsing it with acorn and walking
// the tree. A regular expression cannot tell `eval(x)` from `"eval"` in a
// string or `o.evaluate`; the tree can, and it also sees computed access
// such as `cp['ex' + 'ec']` that no text search would match.

import { parse, type Node } from 'acorn';
import { fullAncestor } from 'acorn-walk';
import { type DenyList, showName } from './policy-names.js';

/** One reason to refuse a piece of code. */
export interface CodeFinding {
  /** What was found, e.g. `identifier 'eval'`. */
  what: string;
  /** Why it is refused and what to do, in one sentence. */
  why: string;
  /** Character offset in the scanned text. */
  at: number;
}

export interface CodeScanOptions {
  deny: DenyList;
  /**
   * Local names bound to imported modules (`cp` -> `node:child_process`),
   * so dynamic access on them can be reported against the module.
   */
  moduleBindings?: ReadonlyMap<string, string>;
  /**
   * Parse as a function body (allowing a top-level `return`), as a single
   * expression, or as a module. Default: 'body'.
   */
  as?: 'body' | 'expression' | 'module';
  /**
   * Names starting with this are the loader's own; reading one that the
   * scanned text does not declare is a finding. Unset: no such check.
   */
  reservedPrefix?: string;
}

// Names whose value is (or leads to) the global object. A computed member
// on any expression mentioning one (`(0, globalThis)[k]`) can reach eval.
const GLOBAL_VALUES = new Set([
  'globalThis',
  'global',
  'self',
  'window',
  'process',
]);

// Reading these by computed key yields strings only: `process.env[name]`.
const STRING_TABLES = new Set(['process.env', 'process.argv']);

// Reflect and Object calls that read or call a property of their target
// by a key computed at run time, like `target[key]` does.
const KEYED_READERS = new Set([
  'Reflect.get',
  'Reflect.apply',
  'Reflect.construct',
  'Reflect.getOwnPropertyDescriptor',
  'Object.getOwnPropertyDescriptor',
  'Object.getOwnPropertyDescriptors',
  'Object.values',
  'Object.entries',
]);

// Objects whose computed members reach anything in the runtime.
const GLOBAL_OBJECTS = new Set([
  'globalThis',
  'global',
  'self',
  'window',
  'process',
  'Reflect',
  'module',
  'exports',
]);

/**
 * Denied names that are also everyday method names on other objects
 * (RegExp#exec, a stream's fork...). As properties they are flagged only on
 * a binding of a denied module; the module itself is refused on import.
 */
const MODULE_METHOD_NAMES = new Set([
  'exec',
  'execSync',
  'execFile',
  'execFileSync',
  'spawn',
  'spawnSync',
  'fork',
]);

// Calls that write to their first argument's properties.
const WRITERS = new Set([
  'Object.defineProperty',
  'Object.defineProperties',
  'Object.assign',
  'Object.setPrototypeOf',
  'Reflect.set',
  'Reflect.defineProperty',
  'Reflect.setPrototypeOf',
]);

type AnyNode = Node & Record<string, any>;

/**
 * Returns the first finding in `code`, or null when nothing denied was
 * seen. Code that cannot be parsed is itself a finding: code that cannot
 * be checked is not run.
 */
export function scanCode(
  code: string,
  options: CodeScanOptions,
): CodeFinding | null {
  let ast: AnyNode;
  try {
    ast = parseFor(code, options.as ?? 'body');
  } catch (error) {
    return {
      what: 'unparseable code',
      why:
        error instanceof RangeError
          ? 'it is nested too deeply to check'
          : `it does not parse (${(error as Error).message})`,
      at: 0,
    };
  }
  try {
    return walkFor(ast, options);
  } catch (error) {
    if (error instanceof RangeError) {
      return { what: 'code', why: 'it is nested too deeply to check', at: 0 };
    }
    throw error;
  }
}

function parseFor(code: string, as: 'body' | 'expression' | 'module'): AnyNode {
  const common = { ecmaVersion: 'latest' as const, locations: false };
  if (as === 'module') {
    return parse(code, { ...common, sourceType: 'module' }) as AnyNode;
  }
  if (as === 'expression') {
    // Parsed as a program holding one expression statement, so text that
    // closes the parenthesis early (`1), evil(), (2`) is still all seen.
    const program = parse(`(${code}\n)`, common) as AnyNode;
    if (program.body.length !== 1) throw new SyntaxError('not one expression');
    return program;
  }
  return parse(code, {
    ...common,
    allowReturnOutsideFunction: true,
    allowAwaitOutsideFunction: true,
  }) as AnyNode;
}

function walkFor(ast: AnyNode, options: CodeScanOptions): CodeFinding | null {
  const { deny } = options;
  const bindings = options.moduleBindings ?? new Map<string, string>();
  const declared = new Set<string>();
  const references: AnyNode[] = [];
  let found: CodeFinding | null = null;
  const report = (finding: CodeFinding): void => {
    if (!found || finding.at < found.at) found = finding;
  };
  const checkProperty = (name: string, at: number, how: string): void => {
    const match = deny.match(name);
    if (!match) return;
    report({
      what: `${how} '${showName(name)}'`,
      why:
        match.kind === 'exact'
          ? `'${match.denied}' is in denyNames`
          : `it looks like the denied name '${match.denied}'`,
      at,
    });
  };

  fullAncestor(ast, (node: AnyNode, _state: unknown, ancestors: Node[], type: string) => {
    switch (node.type) {
      case 'Identifier':
        if (type === 'VariablePattern') declared.add(node.name);
        else references.push(node);
        // A lookalike is suspicious wherever it appears, declared or not.
        if (deny.match(node.name)?.kind === 'lookalike') {
          checkProperty(node.name, node.start, 'identifier');
        }
        break;
      case 'MemberExpression':
        memberAccess(node, ancestors as AnyNode[], bindings, deny, checkProperty, report);
        break;
      case 'CallExpression':
        keyedRead(node, bindings, deny, report);
        break;
      case 'ObjectPattern':
        // `const { binding } = process` reads a property like `.binding`.
        for (const prop of node.properties as AnyNode[]) {
          if (prop.type !== 'Property') continue;
          const key = staticKey(prop.key, prop.computed);
          if (key !== null && !softProperty(key)) {
            checkProperty(key, prop.start, 'property');
          } else if (key === null) {
            // `const { [k]: e } = globalThis` is `globalThis[k]`.
            const source = destructuredFrom(node, ancestors as AnyNode[]);
            const reached =
              source &&
              !STRING_TABLES.has(memberPath(source)) &&
              reachedGlobal(source, bindings, deny);
            if (reached) {
              report({
                what: `computed key in destructuring of ${reached}`,
                why: 'a computed property name on a global object can reach eval',
                at: prop.start,
              });
            }
          }
        }
        break;
      case 'ImportExpression':
        report({
          what: 'dynamic import()',
          why: 'it can load any module at run time, past allowModules',
          at: node.start,
        });
        break;
      case 'ImportDeclaration':
      case 'ExportNamedDeclaration':
      case 'ExportAllDeclaration':
        if (node.source) checkProperty(node.source.value, node.start, 'import of');
        break;
      case 'WithStatement':
        report({
          what: 'with statement',
          why: 'it makes every name in its body a dynamic lookup',
          at: node.start,
        });
        break;
    }
  });

  const reserved = options.reservedPrefix;
  for (const ref of references) {
    if (declared.has(ref.name)) continue;
    if (reserved && ref.name.startsWith(reserved)) {
      report({
        what: `identifier '${showName(ref.name)}'`,
        why:
          `names starting with '${reserved}' belong to the loader, and ` +
          'reading one reaches its internals',
        at: ref.start,
      });
      continue;
    }
    const match = deny.match(ref.name);
    if (match?.kind === 'exact') {
      report({
        what: `identifier '${ref.name}'`,
        why: `'${match.denied}' is in denyNames`,
        at: ref.start,
      });
    }
  }
  return found;
}

function memberAccess(
  node: AnyNode,
  ancestors: AnyNode[],
  bindings: ReadonlyMap<string, string>,
  deny: DenyList,
  checkProperty: (name: string, at: number, how: string) => void,
  report: (finding: CodeFinding) => void,
): void {
  const object = node.object as AnyNode;
  const onDeniedModule =
    object.type === 'Identifier' &&
    bindings.has(object.name) &&
    deny.match(bindings.get(object.name)!) !== null;
  const key = staticKey(node.property, node.computed);
  if (key !== null) {
    if (MODULE_METHOD_NAMES.has(key) && !onDeniedModule) return;
    // `this.constructor` is how classes reach their own statics; the
    // Function escape needs `.constructor` of a function value.
    if (key === 'constructor' && object.type === 'ThisExpression') return;
    // Reading a prototype (Array.prototype.slice) is harmless; writing
    // through one changes every object.
    if (key === 'prototype' && !isWriteTarget(node, ancestors)) return;
    checkProperty(key, node.property.start, 'property');
    return;
  }
  if (object.type !== 'Identifier') {
    // `(0, globalThis)[k]`, `[globalThis][0][k]`: the same reach, hidden
    // behind an expression. Strings from process.env/argv are harmless.
    if (STRING_TABLES.has(memberPath(object))) return;
    const reached = reachedGlobal(object, bindings, deny);
    if (!reached) return;
    report({
      what: `dynamic access [...] on an expression using ${reached}`,
      why: 'a computed property name on a global object can reach eval',
      at: node.start,
    });
    return;
  }
  if (onDeniedModule) {
    report({
      what:
        `dynamic access ${object.name}[...] on denied module ` +
        `'${bindings.get(object.name)}'`,
      why: 'a computed property name can reach any of its exports',
      at: node.start,
    });
  } else if (GLOBAL_OBJECTS.has(object.name)) {
    report({
      what: `dynamic access ${object.name}[...]`,
      why: 'a computed property name on a global object can reach eval',
      at: node.start,
    });
  }
}

/**
 * `Reflect.get(globalThis, 'ev' + 'al')` and its kin read a property by a
 * computed key without a `[...]` in sight; refused when an argument uses
 * a global object or a denied module.
 */
function keyedRead(
  node: AnyNode,
  bindings: ReadonlyMap<string, string>,
  deny: DenyList,
  report: (finding: CodeFinding) => void,
): void {
  const callee = calleeName(node.callee as AnyNode);
  if (!KEYED_READERS.has(callee)) return;
  for (const arg of node.arguments as AnyNode[]) {
    const reached = reachedGlobal(arg, bindings, deny);
    if (!reached) continue;
    report({
      what: `${callee}(...) on ${reached}`,
      why: 'it reads a property by a key computed at run time, which can reach eval',
      at: node.start,
    });
    return;
  }
}

/**
 * The global object or denied module binding an expression mentions (as
 * a name it reads, at any depth), described for a message, or null.
 */
function reachedGlobal(
  node: AnyNode,
  bindings: ReadonlyMap<string, string>,
  deny: DenyList,
): string | null {
  const pending: AnyNode[] = [node];
  while (pending.length > 0) {
    const current = pending.pop()!;
    if (current.type === 'Identifier') {
      if (GLOBAL_VALUES.has(current.name)) return `'${current.name}'`;
      const module = bindings.get(current.name);
      if (module !== undefined && deny.match(module) !== null) {
        return `'${current.name}' (denied module '${module}')`;
      }
      continue;
    }
    for (const [field, value] of Object.entries(current)) {
      // Names after a dot and plain object keys are not reads of a name.
      if (field === 'property' && !current.computed) continue;
      if (field === 'key' && !current.computed) continue;
      if (field === 'label') continue;
      if (Array.isArray(value)) {
        for (const item of value) if (isNode(item)) pending.push(item);
      } else if (isNode(value)) {
        pending.push(value);
      }
    }
  }
  return null;
}

function isNode(value: unknown): value is AnyNode {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { type?: unknown }).type === 'string'
  );
}

/**
 * The expression a destructuring pattern takes apart (`init` of a
 * declaration, the right side of an assignment or default, the iterable
 * of a for-of), or null for parameters and catch clauses.
 */
function destructuredFrom(pattern: AnyNode, ancestors: AnyNode[]): AnyNode | null {
  let child = pattern;
  for (let i = ancestors.length - 2; i >= 0; i--) {
    const parent = ancestors[i]!;
    switch (parent.type) {
      case 'Property':
      case 'ObjectPattern':
      case 'ArrayPattern':
      case 'RestElement':
        child = parent;
        continue;
      case 'AssignmentPattern':
        if (parent.left !== child) return null;
        return parent.right;
      case 'VariableDeclarator':
        if (parent.id !== child) return null;
        if (parent.init) return parent.init;
        // `for (const { [k]: e } of list)`: the declarator has no init.
        child = parent;
        continue;
      case 'AssignmentExpression':
        return parent.left === child ? parent.right : null;
      case 'VariableDeclaration':
        child = parent;
        continue;
      case 'ForOfStatement':
      case 'ForInStatement':
        return parent.left === child ? parent.right : null;
      default:
        return null;
    }
  }
  return null;
}

/** `a.b.c` for a chain of plain names, else ''. */
function memberPath(node: AnyNode): string {
  if (node.type === 'Identifier') return node.name;
  if (node.type !== 'MemberExpression' || node.computed) return '';
  const head = memberPath(node.object);
  return head && node.property.type === 'Identifier'
    ? `${head}.${node.property.name}`
    : '';
}

function softProperty(key: string): boolean {
  return MODULE_METHOD_NAMES.has(key) || key === 'constructor' || key === 'prototype';
}

/**
 * Whether `node` is (the object chain of) what an assignment, update,
 * `delete` or a property-writing call such as Object.assign changes.
 */
function isWriteTarget(node: AnyNode, ancestors: AnyNode[]): boolean {
  let child = node;
  for (let i = ancestors.length - 2; i >= 0; i--) {
    const parent = ancestors[i]!;
    if (parent.type === 'MemberExpression' && parent.object === child) {
      child = parent;
      continue;
    }
    if (parent.type === 'AssignmentExpression') return parent.left === child;
    if (parent.type === 'UpdateExpression') return true;
    if (parent.type === 'UnaryExpression') return parent.operator === 'delete';
    if (parent.type === 'CallExpression') {
      return parent.arguments[0] === child && WRITERS.has(calleeName(parent.callee));
    }
    return false;
  }
  return false;
}

function calleeName(callee: AnyNode): string {
  if (callee.type !== 'MemberExpression') return '';
  const object = callee.object as AnyNode;
  // `Reflect['get']` is `Reflect.get`.
  const key = staticKey(callee.property, callee.computed);
  return object.type === 'Identifier' && key !== null ? `${object.name}.${key}` : '';
}

/** The property name when it is known without running code, else null. */
function staticKey(property: AnyNode, computed: boolean): string | null {
  if (!computed) {
    if (property.type === 'Identifier') return property.name;
    if (property.type === 'PrivateIdentifier') return null;
    return null;
  }
  if (property.type === 'Literal') return String(property.value);
  if (
    property.type === 'TemplateLiteral' &&
    property.expressions.length === 0
  ) {
    return property.quasis[0].value.cooked ?? null;
  }
  return null;
}
