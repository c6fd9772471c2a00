// Static facts about a script V8 compiled, read with acorn: where its
// functions are, what it exports, and what it imports. Parsed once per
// script and cached; callers look things up by V8 source location.

import * as acorn from 'acorn';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { filePathOf, moduleIdFor } from './module-ref.js';

/** An ESTree node with its fields reachable by name. */
export type AnyNode = acorn.Node & Record<string, any>;

const FUNCTION_TYPES = new Set([
  'FunctionDeclaration',
  'FunctionExpression',
  'ArrowFunctionExpression',
  'ClassDeclaration',
  'ClassExpression',
]);

export function isFunctionLike(node: AnyNode | null | undefined): boolean {
  return !!node && FUNCTION_TYPES.has(node.type);
}

/** Where an imported binding comes from. */
export interface ImportBinding {
  /** Stored module id: 'node:crypto', 'lodash-es' or './src/util.ts'. */
  module: string;
  /** Export name; 'default' for default imports, '*' for namespaces. */
  name: string;
}

export interface FunctionSite {
  node: AnyNode;
  /** Outermost first; does not include `node`. */
  ancestors: AnyNode[];
}

export class ParsedScript {
  readonly ast: AnyNode;
  readonly isModule: boolean;
  private readonly lineStarts: number[];
  private exportTable?: Map<AnyNode, string[]>;
  private localExportTable?: Map<string, string[]>;
  private importTable?: Map<string, ImportBinding>;

  constructor(
    readonly source: string,
    readonly url: string,
  ) {
    const parsed = parseAny(source);
    this.ast = parsed.ast;
    this.isModule = parsed.isModule;
    this.lineStarts = [0];
    const breaks = /\r\n?|\n|\u2028|\u2029/g;
    let m: RegExpExecArray | null;
    while ((m = breaks.exec(source))) this.lineStarts.push(m.index + m[0].length);
  }

  offsetOf(line: number, column: number): number {
    return (this.lineStarts[line] ?? this.source.length) + column;
  }

  /** The innermost function or class whose text contains `offset`. */
  functionAt(offset: number): FunctionSite | undefined {
    const path: AnyNode[] = [];
    let node: AnyNode | undefined = this.ast;
    let found: FunctionSite | undefined;
    while (node) {
      if (isFunctionLike(node)) found = { node, ancestors: [...path] };
      path.push(node);
      node = childContaining(node, offset);
    }
    // V8 reports a class with an explicit constructor at the constructor;
    // the class is the function object either way.
    const parent = found?.ancestors.at(-1);
    if (parent?.type === 'MethodDefinition' && parent.kind === 'constructor') {
      const classNode = found!.ancestors.at(-3)!;
      found = { node: classNode, ancestors: found!.ancestors.slice(0, -3) };
    }
    return found;
  }

  /** Function-like top-level nodes mapped to the names they export. */
  exports(): Map<AnyNode, string[]> {
    this.exportTable ??= this.isModule ? collectExports(this.ast) : new Map();
    return this.exportTable;
  }

  /** Top-level local names mapped to the names they are exported as. */
  localExports(): Map<string, string[]> {
    this.localExportTable ??= this.isModule ? collectLocalExports(this.ast) : new Map();
    return this.localExportTable;
  }

  /** Local names bound by import declarations or top-level require(). */
  imports(root: string): Map<string, ImportBinding> {
    this.importTable ??= collectImports(this.ast, this.url, root);
    return this.importTable;
  }
}

function parseAny(source: string): { ast: AnyNode; isModule: boolean } {
  const common = {
    ecmaVersion: 'latest',
    allowHashBang: true,
    allowAwaitOutsideFunction: true,
  } as const;
  try {
    const ast = acorn.parse(source, { ...common, sourceType: 'module' });
    return { ast: ast as AnyNode, isModule: true };
  } catch {
    const ast = acorn.parse(source, {
      ...common,
      sourceType: 'script',
      allowReturnOutsideFunction: true,
    });
    return { ast: ast as AnyNode, isModule: false };
  }
}

/** Child nodes of any ESTree node, in source order. */
export function children(node: AnyNode): AnyNode[] {
  const out: AnyNode[] = [];
  for (const key in node) {
    if (key === 'loc' || key === 'range') continue;
    const value = node[key];
    if (Array.isArray(value)) {
      for (const v of value) if (v && typeof v.type === 'string') out.push(v);
    } else if (value && typeof value.type === 'string') {
      out.push(value);
    }
  }
  return out;
}

function childContaining(node: AnyNode, offset: number): AnyNode | undefined {
  for (const child of children(node)) {
    if (child.start <= offset && offset < child.end) return child;
  }
  return undefined;
}

function nameOf(node: AnyNode): string {
  return node.type === 'Literal' ? String(node.value) : node.name;
}

/**
 * esbuild (and so tsx) keeps function names by wrapping them:
 * `const f = __name(() => 1, "f")`. The function is the first argument.
 */
export function unwrapKeepName(node: AnyNode | null | undefined): AnyNode | undefined {
  if (
    node?.type === 'CallExpression' &&
    node.callee.type === 'Identifier' &&
    node.callee.name === '__name' &&
    node.arguments.length === 2
  ) {
    return node.arguments[0];
  }
  return node ?? undefined;
}

function collectExports(program: AnyNode): Map<AnyNode, string[]> {
  const topLevel = new Map<string, AnyNode>();
  for (const statement of program.body as AnyNode[]) {
    const decl =
      statement.type === 'ExportNamedDeclaration' ||
      statement.type === 'ExportDefaultDeclaration'
        ? statement.declaration
        : statement;
    if (!decl) continue;
    if (
      (decl.type === 'FunctionDeclaration' || decl.type === 'ClassDeclaration') &&
      decl.id
    ) {
      topLevel.set(decl.id.name, decl);
    } else if (decl.type === 'VariableDeclaration') {
      for (const d of decl.declarations as AnyNode[]) {
        const init = unwrapKeepName(d.init);
        if (d.id.type === 'Identifier' && init && isFunctionLike(init)) {
          topLevel.set(d.id.name, init);
        }
      }
    }
  }
  const table = new Map<AnyNode, string[]>();
  const add = (node: AnyNode | undefined, name: string) => {
    if (!node) return;
    const names = table.get(node) ?? [];
    if (!names.includes(name)) names.push(name);
    table.set(node, names);
  };
  for (const statement of program.body as AnyNode[]) {
    if (statement.type === 'ExportNamedDeclaration') {
      const decl = statement.declaration;
      if (decl?.id) add(topLevel.get(decl.id.name), decl.id.name);
      if (decl?.type === 'VariableDeclaration') {
        for (const d of decl.declarations as AnyNode[]) {
          if (d.id.type === 'Identifier') add(topLevel.get(d.id.name), d.id.name);
        }
      }
      if (!statement.source) {
        for (const s of statement.specifiers as AnyNode[]) {
          add(topLevel.get(nameOf(s.local)), nameOf(s.exported));
        }
      }
    } else if (statement.type === 'ExportDefaultDeclaration') {
      const decl = unwrapKeepName(statement.declaration)!;
      if (isFunctionLike(decl)) add(decl, 'default');
      else if (decl.type === 'Identifier') add(topLevel.get(decl.name), 'default');
    }
  }
  return table;
}

function collectLocalExports(program: AnyNode): Map<string, string[]> {
  const table = new Map<string, string[]>();
  const add = (local: string, exported: string) => {
    const names = table.get(local) ?? [];
    if (!names.includes(exported)) names.push(exported);
    table.set(local, names);
  };
  for (const statement of program.body as AnyNode[]) {
    if (statement.type === 'ExportNamedDeclaration' && !statement.source) {
      const decl = statement.declaration;
      if (decl?.id) add(decl.id.name, decl.id.name);
      if (decl?.type === 'VariableDeclaration') {
        for (const d of decl.declarations as AnyNode[]) {
          if (d.id.type === 'Identifier') add(d.id.name, d.id.name);
        }
      }
      for (const sp of (statement.specifiers ?? []) as AnyNode[]) {
        add(nameOf(sp.local), nameOf(sp.exported));
      }
    } else if (
      statement.type === 'ExportDefaultDeclaration' &&
      statement.declaration.type === 'Identifier'
    ) {
      add(statement.declaration.name, 'default');
    }
  }
  return table;
}

function collectImports(
  program: AnyNode,
  url: string,
  root: string,
): Map<string, ImportBinding> {
  const table = new Map<string, ImportBinding>();
  const idOf = (specifier: string) => resolveSpecifier(specifier, url, root);
  for (const statement of program.body as AnyNode[]) {
    if (statement.type === 'ImportDeclaration') {
      if (statement.importKind === 'type') continue;
      const module = idOf(statement.source.value);
      if (!module) continue;
      for (const s of statement.specifiers as AnyNode[]) {
        const name =
          s.type === 'ImportDefaultSpecifier'
            ? 'default'
            : s.type === 'ImportNamespaceSpecifier'
              ? '*'
              : nameOf(s.imported);
        table.set(s.local.name, { module, name });
      }
    } else if (statement.type === 'VariableDeclaration') {
      for (const d of statement.declarations as AnyNode[]) {
        const req = requireCall(d.init);
        if (!req) continue;
        const module = idOf(req.specifier);
        if (!module) continue;
        if (d.id.type === 'Identifier') {
          table.set(d.id.name, { module, name: req.member ?? 'default' });
        } else if (d.id.type === 'ObjectPattern' && !req.member) {
          for (const p of d.id.properties as AnyNode[]) {
            if (p.type !== 'Property' || p.computed) continue;
            if (p.value.type !== 'Identifier') continue;
            table.set(p.value.name, { module, name: nameOf(p.key) });
          }
        }
      }
    }
  }
  return table;
}

/** `require('x')` or `require('x').y` → { specifier, member }. */
function requireCall(
  node: AnyNode | null | undefined,
): { specifier: string; member?: string } | undefined {
  if (!node) return undefined;
  let member: string | undefined;
  if (node.type === 'MemberExpression' && !node.computed) {
    member = node.property.name;
    node = node.object;
  }
  if (
    node?.type === 'CallExpression' &&
    node.callee.type === 'Identifier' &&
    node.callee.name === 'require' &&
    node.arguments.length === 1 &&
    node.arguments[0].type === 'Literal' &&
    typeof node.arguments[0].value === 'string'
  ) {
    return { specifier: node.arguments[0].value, member };
  }
  return undefined;
}

/**
 * Module id for an import specifier written in the script at `url`.
 * Relative specifiers become root-relative paths; bare ones stay as they
 * are. Undefined when a relative import has no file to be relative to.
 */
function resolveSpecifier(
  specifier: string,
  url: string,
  root: string,
): string | undefined {
  if (!specifier.startsWith('.') && !specifier.startsWith('/')) {
    if (specifier.startsWith('file:')) return moduleIdFor(specifier, root);
    return specifier;
  }
  const file = filePathOf(url);
  if (!file) return undefined;
  const target = path.resolve(path.dirname(file), specifier);
  return moduleIdFor(pathToFileURL(target).href, root);
}

const scripts = new Map<string, ParsedScript>();

/** Parses (once) the script with this V8 id. */
export function parsedScript(
  scriptId: string,
  load: () => { source: string; url: string },
): ParsedScript {
  let parsed = scripts.get(scriptId);
  if (!parsed) {
    const { source, url } = load();
    parsed = new ParsedScript(source, url);
    scripts.set(scriptId, parsed);
  }
  return parsed;
}
