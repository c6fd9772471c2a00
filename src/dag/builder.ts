// The DAG builder behind q.dag('etl'): collects tasks, serializes each one
// as it is added (so a function the serializer cannot carry fails at
// dag.task(), naming the task), and on submit() validates the graph and
// stores the whole run in one transaction.

import { randomUUID } from 'node:crypto';
import type { DuckQueue } from '../queue/queue.js';
import { resolveJob } from '../queue/options.js';
import { inspectPayload } from '../serialize/index.js';
import type { NewJobRow } from '../store/types.js';
import { DAG_CONTEXT_SLOT } from './context.js';
import {
  DagAlreadySubmittedError,
  DagNodeNotSerializableError,
  DagUnsupportedStoreError,
  DuplicateNodeError,
  EmptyDagError,
  InvalidDagOptionError,
} from './errors.js';
import { validateGraph } from './graph.js';
import { renderMermaid, type MermaidOptions } from './mermaid.js';
import { DagRun } from './run.js';
import {
  DAG_TASK_OPTION_NAMES,
  DEPENDENCY_MODES,
  type DagTaskOptions,
  type DagTaskRef,
  type DependencyMode,
  type DependencyRef,
} from './types.js';

const MAX_NAME_LENGTH = 200;

interface BuiltTask {
  name: string;
  dependsOn: string[];
  dependencyMode: DependencyMode;
  job: NewJobRow;
}

/**
 * A DAG being built. Each task is a job that runs once its upstreams are
 * done (see DependencyMode); it is called as `fn(...args, ctx)` where
 * `ctx` is a DagContext: `ctx.upstream('extract')` returns the result of
 * the upstream task named 'extract'.
 *
 * ```ts
 * const dag = q.dag('etl');
 * dag.task(extract, { args: ['data.csv'] });
 * dag.task(transform, { dependsOn: 'extract' });
 * const run = await dag.submit();
 * const outcome = await run.wait({ timeoutMs: 60_000 });
 * ```
 */
export class Dag {
  private readonly tasks: BuiltTask[] = [];
  private readonly names = new Set<string>();
  private run: DagRun | undefined;

  constructor(
    private readonly queue: DuckQueue,
    readonly name: string,
  ) {
    checkName('q.dag() name', name);
  }

  /** Names of the tasks added so far, in order. */
  get taskNames(): string[] {
    return this.tasks.map((t) => t.name);
  }

  /** The run this builder submitted, once it has. */
  get submitted(): DagRun | undefined {
    return this.run;
  }

  /**
   * Add a task. Its function and arguments are serialized now with the
   * queue's serializer; a function the serializer cannot carry (e.g. a
   * lambda under 'v8') throws DagNodeNotSerializableError naming the task.
   * Dependencies may name tasks added later; submit() checks them.
   */
  task(
    fn: (...args: any[]) => unknown,
    options: DagTaskOptions = {},
  ): DagTaskRef {
    if (this.run) throw new DagAlreadySubmittedError(this.name, this.run.id);
    const where = `dag '${this.name}' task`;
    if (typeof fn !== 'function') {
      throw new InvalidDagOptionError(
        where,
        'fn',
        `must be the task's function, got ${show(fn)}`,
      );
    }
    checkTaskOptionNames(where, options);
    const name = taskName(where, fn, options.name);
    if (this.names.has(name)) throw new DuplicateNodeError(this.name, name);
    const at = `dag '${this.name}' task '${name}'`;
    const dependsOn = dependencyNames(at, this.name, options.dependsOn);
    const dependencyMode = options.dependencyMode ?? 'all';
    if (!DEPENDENCY_MODES.includes(dependencyMode)) {
      throw new InvalidDagOptionError(
        at,
        'dependencyMode',
        `must be 'all' or 'any', got ${show(dependencyMode)}`,
      );
    }
    const { name: _n, dependsOn: _d, dependencyMode: _m, ...jobOptions } =
      options;
    const job = resolveJob(at, fn, jobOptions, this.queue.options.jobDefaults);
    const row = this.toJobRow(name, fn, job);
    this.tasks.push({ name, dependsOn, dependencyMode, job: row });
    this.names.add(name);
    return Object.freeze({ dag: this.name, name });
  }

  private toJobRow(
    name: string,
    fn: (...args: any[]) => unknown,
    job: ReturnType<typeof resolveJob>,
  ): NewJobRow {
    const serializer = this.queue.serializer;
    let payload: Uint8Array;
    try {
      payload = serializer.serialize({
        fn,
        args: [...job.args, DAG_CONTEXT_SLOT],
      });
    } catch (err) {
      throw new DagNodeNotSerializableError(
        this.name,
        name,
        serializer.name,
        err,
      );
    }
    const info = inspectPayload(payload);
    const now = this.queue.options.clock();
    return {
      queue: job.queue,
      payload,
      format: info.format,
      fnName: info.fnName,
      priority: job.priority,
      runAt: now,
      maxAttempts: job.maxAttempts,
      timeoutMs: job.timeoutMs,
      createdAt: now,
    };
  }

  /** Mermaid flowchart text of the tasks added so far. */
  toMermaid(options: Omit<MermaidOptions, 'statuses'> = {}): string {
    return renderMermaid(this.tasks, options);
  }

  /**
   * Validate the graph (DuplicateNodeError, UnknownDependencyError,
   * DagCycleError naming the loop), then store the run and enqueue its
   * root tasks in one transaction. Returns a handle to wait on.
   */
  async submit(): Promise<DagRun> {
    if (this.run) throw new DagAlreadySubmittedError(this.name, this.run.id);
    if (this.tasks.length === 0) throw new EmptyDagError(this.name);
    validateGraph(this.name, this.tasks);
    const store = this.queue.store;
    if (!store.dag) throw new DagUnsupportedStoreError(store.name);
    const position = new Map(this.tasks.map((t, i) => [t.name, i]));
    const id = randomUUID();
    await store.dag.createRun({
      id,
      name: this.name,
      createdAt: this.queue.options.clock(),
      nodes: this.tasks.map((t) => ({
        name: t.name,
        mode: t.dependencyMode,
        upstream: t.dependsOn.map((d) => position.get(d)!),
        job: t.job,
      })),
    });
    this.run = new DagRun(this.queue, id, this.name);
    return this.run;
  }
}

/**
 * q.dag(name, build): run `build` on a fresh builder and submit when it
 * resolves. If it throws, nothing is stored and the error propagates.
 */
export async function buildAndSubmit(
  queue: DuckQueue,
  name: string,
  build: (dag: Dag) => unknown,
): Promise<DagRun> {
  if (typeof build !== 'function') {
    throw new InvalidDagOptionError(
      `q.dag('${name}', build)`,
      'build',
      `must be a function that adds tasks, got ${show(build)}`,
    );
  }
  const dag = new Dag(queue, name);
  await build(dag);
  return dag.submitted ?? dag.submit();
}

function checkName(where: string, name: unknown): asserts name is string {
  if (
    typeof name !== 'string' ||
    name.trim() === '' ||
    name.length > MAX_NAME_LENGTH
  ) {
    throw new InvalidDagOptionError(
      where,
      'name',
      `must be a non-empty string of at most ${MAX_NAME_LENGTH} ` +
        `characters, got ${show(name)}`,
    );
  }
}

function checkTaskOptionNames(where: string, options: unknown): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidDagOptionError(
      where,
      'options',
      `must be an options object, got ${show(options)}`,
    );
  }
  const valid: readonly string[] = DAG_TASK_OPTION_NAMES;
  for (const key of Object.keys(options)) {
    if (!valid.includes(key)) {
      throw new InvalidDagOptionError(
        where,
        key,
        `is not a task option; valid options are ${valid.join(', ')}`,
      );
    }
  }
}

function taskName(
  where: string,
  fn: unknown,
  given: string | undefined,
): string {
  if (given !== undefined) {
    checkName(where, given);
    return given;
  }
  const fromFn = typeof fn === 'function' ? fn.name : '';
  if (!fromFn) {
    throw new InvalidDagOptionError(
      where,
      'name',
      'is required for an anonymous function: pass { name: ' +
        "'extract' } so other tasks can depend on it",
    );
  }
  checkName(where, fromFn);
  return fromFn;
}

function dependencyNames(
  where: string,
  dag: string,
  dependsOn: DependencyRef | readonly DependencyRef[] | undefined,
): string[] {
  if (dependsOn === undefined) return [];
  const list = Array.isArray(dependsOn) ? dependsOn : [dependsOn];
  const names: string[] = [];
  list.forEach((ref: unknown, i) => {
    const path = Array.isArray(dependsOn) ? `dependsOn[${i}]` : 'dependsOn';
    if (typeof ref === 'string' && ref !== '') {
      names.push(ref);
    } else if (isRef(ref)) {
      if (ref.dag !== dag) {
        throw new InvalidDagOptionError(
          where,
          path,
          `refers to task '${ref.name}' of DAG '${ref.dag}'; a task can ` +
            `only depend on tasks of its own DAG`,
        );
      }
      names.push(ref.name);
    } else {
      throw new InvalidDagOptionError(
        where,
        path,
        `must be a task name or the value dag.task() returned, got ${show(ref)}`,
      );
    }
  });
  return [...new Set(names)];
}

function isRef(value: unknown): value is DagTaskRef {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as DagTaskRef).name === 'string' &&
    typeof (value as DagTaskRef).dag === 'string'
  );
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}
