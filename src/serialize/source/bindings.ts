// Which captured variables can change after a closure is created. A
// binding that is never reassigned (const, an import, or a let/var/param
// no code writes to) holds the same value for the closure's whole life, so
// its value is read through the inspector once and remembered. Anything
// else is re-read on every serialization: captures are a snapshot taken at
// enqueue time.

import type { AnyNode } from '../script-analysis.js';
import { children, isFunctionLike } from '../script-analysis.js';
import { patternNames } from './function-text.js';

export type BindingKind =
  | 'const'
  | 'let'
  | 'var'
  | 'param'
  | 'function'
  | 'class'
  | 'import'
  | 'catch';

const declarationCache = new WeakMap<AnyNode, Map<string, BindingKind>>();
const writeCache = new WeakMap<AnyNode, Set<string>>();

/**
 * True when the variable `name` that the function at `ancestors` (outermost
 * first) closes over may be assigned after the closure was made. Unknown
 * declarations (another script's, e.g. a REPL line) count as reassignable.
 */
export function isReassignable(
  ancestors: readonly AnyNode[],
  name: string,
): boolean {
  for (let i = ancestors.length - 1; i >= 0; i--) {
    const scopeNode = ancestors[i]!;
    const kind = declarationsOf(scopeNode).get(name);
    if (kind === undefined) continue;
    if (kind === 'const' || kind === 'import') return false;
    const writes = writesIn(scopeNode);
    if (kind === 'param' && writes.has(ARGUMENTS_WRITTEN)) return true;
    return writes.has(name);
  }
  return true;
}

/** True when a scope around the function (`ancestors`) declares `name`. */
export function isDeclaredAround(
  ancestors: readonly AnyNode[],
  name: string,
): boolean {
  return ancestors.some((node) => declarationsOf(node).has(name));
}

function declarationsOf(node: AnyNode): Map<string, BindingKind> {
  let names = declarationCache.get(node);
  if (!names) {
    names = new Map();
    collectDeclarations(node, names);
    declarationCache.set(node, names);
  }
  return names;
}

function add(names: Map<string, BindingKind>, list: string[], kind: BindingKind) {
  for (const n of list) if (!names.has(n)) names.set(n, kind);
}

function lexical(statements: AnyNode[], names: Map<string, BindingKind>): void {
  for (const s of statements) {
    if (s.type === 'VariableDeclaration' && s.kind !== 'var') {
      const kind = s.kind === 'const' ? 'const' : 'let';
      for (const d of s.declarations as AnyNode[]) add(names, patternNames(d.id), kind);
    } else if (s.type === 'FunctionDeclaration' && s.id) {
      add(names, [s.id.name], 'function');
    } else if (s.type === 'ClassDeclaration' && s.id) {
      add(names, [s.id.name], 'class');
    } else if (
      (s.type === 'ExportNamedDeclaration' || s.type === 'ExportDefaultDeclaration') &&
      s.declaration
    ) {
      lexical([s.declaration], names);
    } else if (s.type === 'ImportDeclaration') {
      for (const sp of s.specifiers as AnyNode[]) add(names, [sp.local.name], 'import');
    }
  }
}

function collectDeclarations(
  node: AnyNode,
  names: Map<string, BindingKind>,
): void {
  switch (node.type) {
    case 'Program':
      lexical(node.body, names);
      add(names, varNames(node), 'var');
      return;
    case 'FunctionDeclaration':
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
      for (const p of node.params as AnyNode[]) add(names, patternNames(p), 'param');
      if (node.type === 'FunctionExpression' && node.id) {
        add(names, [node.id.name], 'const');
      }
      if (node.body.type === 'BlockStatement') add(names, varNames(node.body), 'var');
      return;
    case 'BlockStatement':
    case 'StaticBlock':
      lexical(node.body, names);
      return;
    case 'SwitchStatement':
      for (const c of node.cases as AnyNode[]) lexical(c.consequent, names);
      return;
    case 'ForStatement':
    case 'ForInStatement':
    case 'ForOfStatement': {
      const head = node.init ?? node.left;
      if (head?.type === 'VariableDeclaration' && head.kind !== 'var') {
        lexical([head], names);
      }
      return;
    }
    case 'CatchClause':
      if (node.param) add(names, patternNames(node.param), 'catch');
      return;
    case 'ClassDeclaration':
    case 'ClassExpression':
      if (node.id) add(names, [node.id.name], 'const');
      return;
  }
}

/** `var` names (and nested function declarations) of a function body. */
function varNames(body: AnyNode): string[] {
  const out: string[] = [];
  const visit = (node: AnyNode, top: boolean): void => {
    if (isFunctionLike(node)) {
      if (node.type === 'FunctionDeclaration' && node.id && !top) out.push(node.id.name);
      return;
    }
    if (node.type === 'VariableDeclaration' && node.kind === 'var') {
      for (const d of node.declarations as AnyNode[]) out.push(...patternNames(d.id));
    }
    for (const child of children(node)) visit(child, false);
  };
  for (const child of children(body)) visit(child, true);
  return out;
}

/**
 * Stands for a write through `arguments[i]`, which in sloppy mode also
 * writes the parameter it aliases. Not an identifier, so never a name.
 */
const ARGUMENTS_WRITTEN = 'arguments[]';

/**
 * Every identifier name written anywhere below `node` (by name only). A
 * `var` with an initializer counts: it assigns each time it runs (in a
 * loop, or after a hoisted function was made), and so does a `var` in a
 * for-in/of head.
 */
function writesIn(node: AnyNode): Set<string> {
  let names = writeCache.get(node);
  if (!names) {
    const found = new Set<string>();
    const visit = (n: AnyNode): void => {
      if (n.type === 'AssignmentExpression') {
        for (const name of targetNames(n.left)) found.add(name);
        if (isArgumentsElement(n.left)) found.add(ARGUMENTS_WRITTEN);
      } else if (n.type === 'UpdateExpression') {
        if (n.argument.type === 'Identifier') found.add(n.argument.name);
        if (isArgumentsElement(n.argument)) found.add(ARGUMENTS_WRITTEN);
      } else if (n.type === 'ForInStatement' || n.type === 'ForOfStatement') {
        const left = n.left;
        if (left.type !== 'VariableDeclaration') {
          for (const name of targetNames(left)) found.add(name);
        } else if (left.kind === 'var') {
          for (const d of left.declarations as AnyNode[]) {
            for (const name of patternNames(d.id)) found.add(name);
          }
        }
      } else if (n.type === 'VariableDeclaration' && n.kind === 'var') {
        for (const d of n.declarations as AnyNode[]) {
          if (d.init) for (const name of patternNames(d.id)) found.add(name);
        }
      }
      for (const child of children(n)) visit(child);
    };
    visit(node);
    names = found;
    writeCache.set(node, names);
  }
  return names;
}

/** `arguments[i]` (or `arguments.x`) as a write target. */
function isArgumentsElement(target: AnyNode): boolean {
  return (
    target.type === 'MemberExpression' &&
    target.object.type === 'Identifier' &&
    target.object.name === 'arguments'
  );
}

function targetNames(pattern: AnyNode): string[] {
  return pattern.type === 'MemberExpression' ? [] : patternNames(pattern);
}
