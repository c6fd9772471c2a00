// A synchronous, in-process connection to V8's inspector. It is how we see
// what the language hides: where a function was defined ([[FunctionLocation]]),
// which variables it closes over ([[Scopes]]), what a bound function wraps,
// and the exact source V8 compiled (after tsx or any other loader).
//
// On Node 20 `session.post` on an in-process session answers before it
// returns, so every call here is synchronous. Each round trip costs tens of
// microseconds; callers cache what they learn.

import inspector from 'node:inspector';
import { SerializationError } from './errors.js';

/** A value as the inspector describes it (Runtime.RemoteObject). */
export interface RemoteObject {
  type: string;
  subtype?: string;
  className?: string;
  value?: unknown;
  unserializableValue?: string;
  description?: string;
  objectId?: string;
}

export interface SourceLocation {
  scriptId: string;
  /** 0-based line. */
  line: number;
  /** 0-based column, in UTF-16 code units. */
  column: number;
}

/** What the inspector knows about one function object. */
export interface FunctionFacts {
  location?: SourceLocation;
  scopesId?: string;
  bound?: {
    target: RemoteObject;
    thisArg: RemoteObject;
    argsId?: string;
  };
}

export interface ScopeRef {
  /** 'closure', 'block', 'script', 'module', 'global', 'catch', ... */
  type: string;
  /** The description V8 gives, e.g. 'Closure (makeCounter)'. */
  description: string;
  objectId: string;
}

export interface Variable {
  name: string;
  value: RemoteObject;
}

export interface ScriptInfo {
  url: string;
}

const TEMP_GROUP = 'duckqueue-serialize';
const HOLDER_GROUP = 'duckqueue-holder';
const HOLDER_GLOBAL = '__duckqueueInspectorHolder';

/** Lazily created, process-wide; one session is enough. */
let shared: InspectorBridge | undefined;

export function getInspector(): InspectorBridge {
  shared ??= new InspectorBridge();
  return shared;
}

export class InspectorBridge {
  private readonly session = new inspector.Session();
  private readonly holder: { slot: unknown; out: unknown[] } = {
    slot: undefined,
    out: [],
  };
  private readonly holderId: string;
  private readonly scripts = new Map<string, ScriptInfo>();
  private readonly sources = new Map<string, string>();
  private debuggerOn = false;
  private tempObjects = 0;

  constructor() {
    this.session.connect();
    this.session.on('Debugger.scriptParsed', (message) => {
      const { scriptId, url } = message.params;
      this.scripts.set(scriptId, { url });
    });
    (globalThis as Record<string, unknown>)[HOLDER_GLOBAL] = this.holder;
    try {
      const { result } = this.post<{ result: RemoteObject }>(
        'Runtime.evaluate',
        { expression: `globalThis.${HOLDER_GLOBAL}`, objectGroup: HOLDER_GROUP },
      );
      this.holderId = result.objectId!;
    } finally {
      delete (globalThis as Record<string, unknown>)[HOLDER_GLOBAL];
    }
  }

  /** Sends one command and returns its answer synchronously. */
  post<T>(method: string, params: object = {}): T {
    let answered = false;
    let error: Error | null = null;
    let result: T | undefined;
    this.session.post(method, params, (err: Error | null, res?: object) => {
      answered = true;
      error = err;
      result = res as T;
    });
    if (!answered) {
      throw new SerializationError(
        `the inspector did not answer '${method}' synchronously; this ` +
          'Node.js version is not supported by the v8 and source ' +
          "serializers (use 'json' with registerTask instead)",
      );
    }
    if (error) throw error;
    return result!;
  }

  /** Gives `value` an objectId in the temporary group. */
  remote(value: unknown): RemoteObject {
    this.holder.slot = value;
    try {
      const res = this.post<{ result: RemoteObject }>(
        'Runtime.callFunctionOn',
        {
          objectId: this.holderId,
          functionDeclaration: 'function () { return this.slot; }',
          objectGroup: TEMP_GROUP,
        },
      );
      this.tempObjects += 1;
      return res.result;
    } finally {
      this.holder.slot = undefined;
    }
  }

  /** Location, scope chain and bound target of a function object. */
  functionFacts(fnId: string): FunctionFacts {
    const res = this.post<{
      internalProperties?: { name: string; value: RemoteObject }[];
    }>('Runtime.getProperties', {
      objectId: fnId,
      ownProperties: true,
      generatePreview: false,
    });
    const facts: FunctionFacts = {};
    let target: RemoteObject | undefined;
    let thisArg: RemoteObject | undefined;
    let argsId: string | undefined;
    for (const { name, value } of res.internalProperties ?? []) {
      if (name === '[[FunctionLocation]]') {
        const loc = value.value as {
          scriptId: string;
          lineNumber: number;
          columnNumber: number;
        };
        facts.location = {
          scriptId: loc.scriptId,
          line: loc.lineNumber,
          column: loc.columnNumber,
        };
      } else if (name === '[[Scopes]]') {
        facts.scopesId = value.objectId;
      } else if (name === '[[TargetFunction]]') {
        target = value;
      } else if (name === '[[BoundThis]]') {
        thisArg = value;
      } else if (name === '[[BoundArgs]]') {
        argsId = value.objectId;
      }
    }
    if (target) facts.bound = { target, thisArg: thisArg!, argsId };
    return facts;
  }

  /** The scope chain, innermost first, as V8 reports it. */
  scopeChain(scopesId: string): ScopeRef[] {
    const list = this.ownProperties(scopesId);
    const out: ScopeRef[] = [];
    for (const { name, value } of list) {
      if (!/^\d+$/.test(name) || !value.objectId) continue;
      const description = value.description ?? '';
      const type = description.split(' ')[0]!.toLowerCase();
      out.push({ type, description, objectId: value.objectId });
    }
    return out;
  }

  /** Own properties of an object (or variables of a scope object). */
  ownProperties(objectId: string): Variable[] {
    const res = this.post<{ result: { name: string; value?: RemoteObject }[] }>(
      'Runtime.getProperties',
      { objectId, ownProperties: true, generatePreview: false },
    );
    const out: Variable[] = [];
    for (const p of res.result) {
      if (p.value) out.push({ name: p.name, value: p.value });
    }
    return out;
  }

  /** Names of private fields (#x) of an object; [] when it has none. */
  privateFieldNames(objectId: string): string[] {
    const res = this.post<{ privateProperties?: { name: string }[] }>(
      'Runtime.getProperties',
      { objectId, ownProperties: true, generatePreview: false },
    );
    return (res.privateProperties ?? []).map((p) => p.name);
  }

  /** Turns remote objects back into the live JavaScript values. */
  values(remotes: readonly RemoteObject[]): unknown[] {
    const out: unknown[] = new Array(remotes.length);
    const pending: { index: number; objectId: string }[] = [];
    remotes.forEach((r, index) => {
      if (r.objectId) pending.push({ index, objectId: r.objectId });
      else out[index] = primitiveOf(r);
    });
    if (pending.length === 0) return out;
    try {
      this.post('Runtime.callFunctionOn', {
        objectId: this.holderId,
        functionDeclaration: 'function (...v) { this.out = v; }',
        arguments: pending.map((p) => ({ objectId: p.objectId })),
        returnByValue: true,
      });
      pending.forEach((p, i) => {
        out[p.index] = this.holder.out[i];
      });
    } finally {
      this.holder.out = [];
    }
    return out;
  }

  /** The URL V8 knows a script by ('' for REPL and eval code). */
  scriptUrl(scriptId: string): string {
    let info = this.scripts.get(scriptId);
    if (!info) {
      this.withDebugger(() => undefined);
      info = this.scripts.get(scriptId) ?? { url: '' };
      this.scripts.set(scriptId, info);
    }
    return info.url;
  }

  /** The exact source text V8 compiled for a script. */
  scriptSource(scriptId: string): string {
    let source = this.sources.get(scriptId);
    if (source === undefined) {
      source = this.withDebugger(
        () =>
          this.post<{ scriptSource: string }>('Debugger.getScriptSource', {
            scriptId,
          }).scriptSource,
      );
      this.sources.set(scriptId, source);
    }
    return source;
  }

  /** Releases every objectId handed out since the last release. */
  releaseTemporaries(): void {
    if (this.tempObjects === 0) return;
    this.tempObjects = 0;
    this.post('Runtime.releaseObjectGroup', { objectGroup: TEMP_GROUP });
  }

  /**
   * Runs `fn` with the Debugger domain on. It is switched off again right
   * after: while on, V8 reports every compiled script to us and every
   * Runtime.evaluate gets slower. Pauses are skipped so a `debugger`
   * statement can never stop the thread this session lives on.
   */
  private withDebugger<T>(fn: () => T): T {
    if (this.debuggerOn) return fn();
    this.debuggerOn = true;
    this.post('Debugger.enable', {});
    try {
      this.post('Debugger.setSkipAllPauses', { skip: true });
      return fn();
    } finally {
      this.post('Debugger.disable', {});
      this.debuggerOn = false;
    }
  }
}

function primitiveOf(r: RemoteObject): unknown {
  if (r.type === 'undefined') return undefined;
  if (r.unserializableValue !== undefined) {
    const u = r.unserializableValue;
    if (r.type === 'bigint') return BigInt(u.slice(0, -1));
    if (u === '-0') return -0;
    return Number(u);
  }
  return r.value;
}
