// Reads a function's own source text (Function.prototype.toString) with
// acorn and finds what it refers to but does not declare: its free
// variables. That is the honest way to know what a closure needs; a regex
// over the text cannot tell a variable from a property or a string.

import * as acorn from 'acorn';
import type { AnyNode } from '../script-analysis.js';
import { children } from '../script-analysis.js';

/** How the text can be turned back into a function value. */
export type FunctionForm =
  /** `function f() {}`, `async x => x`, `class A {}`: an expression. */
  | 'expression'
  /** `m() {}`, `get x() {}`, `*gen() {}`: only valid inside an object. */
  | 'method';

export interface FunctionText {
  source: string;
  form: FunctionForm;
  kind: 'function' | 'arrow' | 'class' | 'method' | 'getter' | 'setter';
  /** Names referenced but not declared inside, in first-use order. */
  free: string[];
  /**
   * For classes: free names needed while the class is being defined
   * (`extends X`, computed keys, static fields and blocks).
   */
  eager: string[];
  /** The text uses `this`, `arguments`, `super` or `new.target` lexically. */
  lexical: string | undefined;
  /** The text has a 'use strict' directive of its own. */
  strictDirective: boolean;
  /** A class that declares private members (#x). */
  declaresPrivate: boolean;
  /** For a class with `extends`: where that expression is and what it reads. */
  superclass: SuperclassText | undefined;
  /** For a class: the methods and accessors its body defines. */
  members: ClassMembers | undefined;
}

export interface ClassMembers {
  /** Keys the body defines on the prototype. */
  instance: string[];
  /** Keys the body defines on the class itself (methods and fields). */
  static: string[];
  /** Some member has a computed key (`[KEY]() {}`): not known here. */
  computed: boolean;
}

export interface SuperclassText {
  /** Offsets of the expression after `extends` in `source`. */
  start: number;
  end: number;
  /** Set when the expression is a lone variable: `extends Base`. */
  identifier: string | undefined;
  /** Free names the expression reads. */
  names: string[];
  /** Free names nothing but the expression reads. */
  only: string[];
}

const PARSE_OPTIONS = {
  ecmaVersion: 'latest',
  sourceType: 'script',
  allowAwaitOutsideFunction: false,
} as const;

const cache = new Map<string, FunctionText | Error>();
const CACHE_LIMIT = 5000;

/**
 * Parses function text; cached by text, so closures made by the same code
 * share one analysis. Throws SyntaxError for text that is not a function.
 */
export function analyzeFunctionText(source: string): FunctionText {
  let result = cache.get(source);
  if (!result) {
    try {
      result = analyzeUncached(source);
    } catch (err) {
      result = err instanceof Error ? err : new Error(String(err));
    }
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(source, result);
  }
  if (result instanceof Error) throw result;
  return result;
}

function analyzeUncached(source: string): FunctionText {
  const asExpression = tryParse(`(${source}\n)`, 1, source.length + 1);
  if (asExpression) return describe(source, 'expression', asExpression);
  const wrapped = tryParse(`({${source}\n})`, 1, source.length + 4);
  const prop = wrapped?.properties?.[0];
  if (wrapped?.properties.length === 1 && prop?.type === 'Property' && prop.method) {
    return describe(source, 'method', prop.value, prop);
  }
  if (wrapped?.properties.length === 1 && prop?.kind !== 'init') {
    return describe(source, 'method', prop.value, prop);
  }
  throw new SyntaxError('text is not a function, class or method');
}

/** Parses `text`; returns the expression only if it spans [from, to). */
function tryParse(text: string, from: number, to: number): AnyNode | undefined {
  let program: AnyNode;
  try {
    program = acorn.parse(text, PARSE_OPTIONS) as AnyNode;
  } catch {
    return undefined;
  }
  if (program.body.length !== 1) return undefined;
  const statement = program.body[0];
  if (statement.type !== 'ExpressionStatement') return undefined;
  let expr = statement.expression;
  if (expr.type === 'ParenthesizedExpression') expr = expr.expression;
  if (expr.start !== from || expr.end > to) return undefined;
  if (expr.type === 'ObjectExpression') return expr;
  const functionLike = [
    'FunctionExpression',
    'ArrowFunctionExpression',
    'ClassExpression',
  ];
  return functionLike.includes(expr.type) ? expr : undefined;
}

function describe(
  source: string,
  form: FunctionForm,
  node: AnyNode,
  property?: AnyNode,
): FunctionText {
  const analysis = new FreeVariables();
  analysis.root(node, property);
  const kind: FunctionText['kind'] =
    node.type === 'ClassExpression'
      ? 'class'
      : node.type === 'ArrowFunctionExpression'
        ? 'arrow'
        : property?.kind === 'get'
          ? 'getter'
          : property?.kind === 'set'
            ? 'setter'
            : property
              ? 'method'
              : 'function';
  const body = node.body;
  const heritage: AnyNode | null | undefined =
    node.type === 'ClassExpression' ? node.superClass : undefined;
  const strictDirective =
    body?.type === 'BlockStatement' &&
    body.body.some(
      (s: AnyNode) => s.type === 'ExpressionStatement' && s.directive === 'use strict',
    );
  return {
    source,
    form,
    kind,
    free: analysis.free(),
    eager: analysis.eagerFree(),
    lexical: analysis.lexical,
    strictDirective,
    declaresPrivate:
      node.type === 'ClassExpression' &&
      (node.body.body as AnyNode[]).some((m) => m.key?.type === 'PrivateIdentifier'),
    members: node.type === 'ClassExpression' ? classMembers(node) : undefined,
    superclass: heritage
      ? {
          // The class was parsed as `(${source})`: one character in.
          start: heritage.start - 1,
          end: heritage.end - 1,
          identifier: heritage.type === 'Identifier' ? heritage.name : undefined,
          names: analysis.superclassFree(),
          only: analysis.superclassOnlyFree(),
        }
      : undefined,
  };
}

function classMembers(node: AnyNode): ClassMembers {
  const out: ClassMembers = { instance: [], static: [], computed: false };
  for (const m of node.body.body as AnyNode[]) {
    if (m.type !== 'MethodDefinition' && m.type !== 'PropertyDefinition') continue;
    if (m.computed) {
      out.computed = true;
      continue;
    }
    const key =
      m.key.type === 'Identifier'
        ? m.key.name
        : m.key.type === 'Literal'
          ? String(m.key.value)
          : undefined;
    if (key === undefined || m.kind === 'constructor') continue;
    if (m.static) out.static.push(key);
    else if (m.type === 'MethodDefinition') out.instance.push(key);
  }
  return out;
}

class Scope {
  readonly names = new Set<string>();
  constructor(readonly parent: Scope | null) {}
  has(name: string): boolean {
    for (let s: Scope | null = this; s; s = s.parent) {
      if (s.names.has(name)) return true;
    }
    return false;
  }
}

interface Reference {
  name: string;
  scope: Scope;
  eager: boolean;
  /** Read by the root class's `extends` expression. */
  superclass: boolean;
}

/**
 * A scope-aware walk: declarations are collected per scope (with var and
 * function hoisting), references are resolved once the walk is done.
 */
class FreeVariables {
  private readonly refs: Reference[] = [];
  /** True while the walk is in code that runs when a class is defined. */
  private eager = false;
  /** True while the walk is in the root class's `extends` expression. */
  private inSuperclass = false;
  /**
   * Depth of non-arrow functions entered below the root. At 0 inside an
   * arrow root, `this` and `arguments` belong to the code around it.
   */
  private ownThisDepth = 0;
  private rootIsArrow = false;
  private rootIsMethod = false;
  lexical: string | undefined;

  root(node: AnyNode, property?: AnyNode): void {
    this.rootIsArrow = node.type === 'ArrowFunctionExpression';
    this.rootIsMethod = !!property;
    const top = new Scope(null);
    if (node.type === 'ClassExpression') this.classNode(node, top, true);
    else this.functionNode(node, top, true);
  }

  free(): string[] {
    return this.unresolved(() => true);
  }

  eagerFree(): string[] {
    return this.unresolved((r) => r.eager);
  }

  superclassFree(): string[] {
    return this.unresolved((r) => r.superclass);
  }

  superclassOnlyFree(): string[] {
    const elsewhere = this.unresolved((r) => !r.superclass);
    return this.superclassFree().filter((name) => !elsewhere.includes(name));
  }

  private unresolved(keep: (r: Reference) => boolean): string[] {
    const out: string[] = [];
    for (const r of this.refs) {
      if (keep(r) && !r.scope.has(r.name) && !out.includes(r.name)) {
        out.push(r.name);
      }
    }
    return out;
  }

  private reference(name: string, scope: Scope): void {
    if (name === 'arguments' && this.ownThisDepth === 0 && this.rootIsArrow) {
      if (!scope.has(name)) this.lexical ??= 'arguments';
    }
    this.refs.push({
      name,
      scope,
      eager: this.eager,
      superclass: this.inSuperclass,
    });
  }

  private functionNode(node: AnyNode, outer: Scope, isRoot = false): void {
    const arrow = node.type === 'ArrowFunctionExpression';
    let scope = outer;
    if (node.type === 'FunctionExpression' && node.id) {
      scope = new Scope(scope);
      scope.names.add(node.id.name);
    }
    scope = new Scope(scope);
    if (!arrow) scope.names.add('arguments');
    const wasEager = this.eager;
    // A function body runs later, when called, even inside a static field.
    if (!isRoot) this.eager = false;
    if (!arrow && !isRoot) this.ownThisDepth += 1;
    if (!arrow && isRoot && !this.rootIsMethod) this.ownThisDepth += 1;
    for (const p of node.params as AnyNode[]) this.pattern(p, scope, scope);
    if (node.body.type === 'BlockStatement') {
      hoistVars(node.body, scope);
      this.block(node.body.body, scope);
    } else {
      this.visit(node.body, scope);
    }
    if (!arrow && !isRoot) this.ownThisDepth -= 1;
    if (!arrow && isRoot && !this.rootIsMethod) this.ownThisDepth -= 1;
    this.eager = wasEager;
  }

  private classNode(node: AnyNode, outer: Scope, isRoot = false): void {
    const scope = new Scope(outer);
    if (node.id) scope.names.add(node.id.name);
    const wasEager = this.eager;
    this.eager = true;
    if (node.superClass) {
      const wasInSuperclass = this.inSuperclass;
      if (isRoot) this.inSuperclass = true;
      this.visit(node.superClass, scope);
      this.inSuperclass = wasInSuperclass;
    }
    this.ownThisDepth += 1;
    for (const member of node.body.body as AnyNode[]) {
      this.eager = true;
      if (member.type === 'StaticBlock') {
        const inner = new Scope(scope);
        hoistVars(member, inner);
        this.block(member.body, inner);
        continue;
      }
      if (member.computed) this.visit(member.key, scope);
      if (member.type === 'MethodDefinition') {
        this.functionNode(member.value, scope);
      } else if (member.value) {
        // Field initializers: static ones run at definition time.
        this.eager = !!member.static;
        this.visit(member.value, new Scope(scope));
      }
    }
    this.ownThisDepth -= 1;
    this.eager = wasEager;
  }

  /** Statements of a block: lexical declarations are hoisted first. */
  private block(statements: AnyNode[], scope: Scope): void {
    for (const s of statements) declareLexical(s, scope);
    for (const s of statements) this.visit(s, scope);
  }

  /** Declares the names a pattern binds; visits defaults and keys. */
  private pattern(node: AnyNode, declareIn: Scope | null, scope: Scope): void {
    switch (node.type) {
      case 'Identifier':
        if (declareIn) declareIn.names.add(node.name);
        else this.reference(node.name, scope);
        return;
      case 'ObjectPattern':
        for (const p of node.properties as AnyNode[]) {
          if (p.type === 'RestElement') this.pattern(p.argument, declareIn, scope);
          else {
            if (p.computed) this.visit(p.key, scope);
            this.pattern(p.value, declareIn, scope);
          }
        }
        return;
      case 'ArrayPattern':
        for (const e of node.elements as (AnyNode | null)[]) {
          if (e) this.pattern(e, declareIn, scope);
        }
        return;
      case 'RestElement':
        this.pattern(node.argument, declareIn, scope);
        return;
      case 'AssignmentPattern':
        this.pattern(node.left, declareIn, scope);
        this.visit(node.right, scope);
        return;
      default:
        // A member expression as an assignment target: `obj.x = 1`.
        this.visit(node, scope);
    }
  }

  private visit(node: AnyNode | null | undefined, scope: Scope): void {
    if (!node) return;
    switch (node.type) {
      case 'Identifier':
        this.reference(node.name, scope);
        return;
      case 'ThisExpression':
        if (this.ownThisDepth === 0 && this.rootIsArrow) this.lexical ??= 'this';
        return;
      case 'Super':
        if (this.ownThisDepth === 0) this.lexical ??= 'super';
        return;
      case 'MetaProperty':
        if (node.meta.name === 'new' && this.ownThisDepth === 0 && this.rootIsArrow) {
          this.lexical ??= 'new.target';
        }
        return;
      case 'MemberExpression':
        this.visit(node.object, scope);
        if (node.computed) this.visit(node.property, scope);
        return;
      case 'Property':
        if (node.computed) this.visit(node.key, scope);
        if (node.method || node.kind !== 'init') {
          // Object literal methods own `this`; `super` is their home object.
          this.ownThisDepth += 1;
          this.functionNode(node.value, scope);
          this.ownThisDepth -= 1;
        } else {
          this.visit(node.value, scope);
        }
        return;
      case 'LabeledStatement':
        this.visit(node.body, scope);
        return;
      case 'BreakStatement':
      case 'ContinueStatement':
        return;
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        this.functionNode(node, scope);
        return;
      case 'ClassDeclaration':
      case 'ClassExpression':
        this.classNode(node, scope);
        return;
      case 'VariableDeclaration':
        for (const d of node.declarations as AnyNode[]) {
          this.pattern(d.id, scope, scope);
          this.visit(d.init, scope);
        }
        return;
      case 'BlockStatement':
      case 'StaticBlock': {
        const inner = new Scope(scope);
        this.block(node.body, inner);
        return;
      }
      case 'ForStatement':
      case 'ForInStatement':
      case 'ForOfStatement': {
        const inner = new Scope(scope);
        const head = node.init ?? node.left;
        if (head?.type === 'VariableDeclaration') declareLexical(head, inner);
        for (const child of children(node)) {
          if (child === node.left && child.type !== 'VariableDeclaration') {
            this.pattern(child, null, inner);
          } else {
            this.visit(child, inner);
          }
        }
        return;
      }
      case 'CatchClause': {
        const inner = new Scope(scope);
        if (node.param) this.pattern(node.param, inner, inner);
        this.visit(node.body, inner);
        return;
      }
      case 'SwitchStatement': {
        this.visit(node.discriminant, scope);
        const inner = new Scope(scope);
        for (const c of node.cases as AnyNode[]) {
          for (const s of c.consequent as AnyNode[]) declareLexical(s, inner);
        }
        for (const c of node.cases as AnyNode[]) {
          this.visit(c.test, inner);
          for (const s of c.consequent as AnyNode[]) this.visit(s, inner);
        }
        return;
      }
      case 'AssignmentExpression':
        this.pattern(node.left, null, scope);
        this.visit(node.right, scope);
        return;
      default:
        for (const child of children(node)) this.visit(child, scope);
    }
  }
}

/** Declares let/const/class/function declarations of one statement. */
function declareLexical(statement: AnyNode, scope: Scope): void {
  if (statement.type === 'VariableDeclaration' && statement.kind !== 'var') {
    for (const d of statement.declarations as AnyNode[]) {
      for (const name of patternNames(d.id)) scope.names.add(name);
    }
  } else if (
    (statement.type === 'ClassDeclaration' ||
      statement.type === 'FunctionDeclaration') &&
    statement.id
  ) {
    scope.names.add(statement.id.name);
  }
}

/** Declares every `var` (and top-level function) of a function body. */
function hoistVars(body: AnyNode, scope: Scope): void {
  const visit = (node: AnyNode): void => {
    if (
      node.type === 'FunctionExpression' ||
      node.type === 'ArrowFunctionExpression' ||
      node.type === 'ClassDeclaration' ||
      node.type === 'ClassExpression'
    ) {
      return;
    }
    if (node.type === 'FunctionDeclaration') {
      // Sloppy-mode block functions are also visible function-wide.
      if (node.id) scope.names.add(node.id.name);
      return;
    }
    if (node.type === 'VariableDeclaration' && node.kind === 'var') {
      for (const d of node.declarations as AnyNode[]) {
        for (const name of patternNames(d.id)) scope.names.add(name);
      }
    }
    for (const child of children(node)) visit(child);
  };
  for (const child of children(body)) visit(child);
}

export function patternNames(node: AnyNode | null | undefined): string[] {
  if (!node) return [];
  switch (node.type) {
    case 'Identifier':
      return [node.name];
    case 'ObjectPattern':
      return (node.properties as AnyNode[]).flatMap((p) =>
        patternNames(p.type === 'RestElement' ? p.argument : p.value),
      );
    case 'ArrayPattern':
      return (node.elements as (AnyNode | null)[]).flatMap((e) => patternNames(e));
    case 'RestElement':
      return patternNames(node.argument);
    case 'AssignmentPattern':
      return patternNames(node.left);
    default:
      return [];
  }
}
