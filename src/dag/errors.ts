// Errors raised while building, submitting, running or waiting on a DAG.
// Each names the node or run at fault and says what to change; callers
// branch with `instanceof` or on `code`, never on message text.

export class DagError extends Error {
  readonly code: string = 'DAG_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Two tasks in one DAG share a name. */
export class DuplicateNodeError extends DagError {
  override readonly code = 'DAG_DUPLICATE_NODE';
  constructor(
    readonly dag: string,
    readonly node: string,
  ) {
    super(
      `DAG '${dag}' already has a task named '${node}': task names must ` +
        `be unique within a DAG. Pass a different { name } to dag.task().`,
    );
  }
}

/** A task depends on a name that no task in the DAG has. */
export class UnknownDependencyError extends DagError {
  override readonly code = 'DAG_UNKNOWN_DEPENDENCY';
  constructor(
    readonly dag: string,
    readonly node: string,
    readonly dependency: string,
    readonly known: readonly string[],
  ) {
    super(
      `task '${node}' in DAG '${dag}' depends on '${dependency}', which is ` +
        `not a task in this DAG. Known tasks: ${listNames(known)}. Add a ` +
        `task named '${dependency}' or fix the dependsOn entry.`,
    );
  }
}

/** The dependencies loop back on themselves; `cycle` ends where it began. */
export class DagCycleError extends DagError {
  override readonly code = 'DAG_CYCLE';
  constructor(
    readonly dag: string,
    readonly cycle: readonly string[],
  ) {
    super(
      `DAG '${dag}' has a dependency cycle: ${cycle.join(' -> ')}. ` +
        `A DAG must be acyclic; remove one of these dependsOn links.`,
    );
  }
}

/** A task option has the wrong type, an unknown name or a bad value. */
export class InvalidDagOptionError extends DagError {
  override readonly code = 'DAG_INVALID_OPTION';
  constructor(
    readonly where: string,
    readonly option: string,
    readonly problem: string,
  ) {
    super(`${where}: option '${option}' ${problem}`);
  }
}

/** submit() on a DAG with no tasks. */
export class EmptyDagError extends DagError {
  override readonly code = 'DAG_EMPTY';
  constructor(readonly dag: string) {
    super(
      `DAG '${dag}' has no tasks; add at least one with dag.task(fn) ` +
        `before submit().`,
    );
  }
}

/** dag.task() or submit() after the DAG was already submitted. */
export class DagAlreadySubmittedError extends DagError {
  override readonly code = 'DAG_ALREADY_SUBMITTED';
  constructor(
    readonly dag: string,
    readonly runId: string,
  ) {
    super(
      `DAG '${dag}' was already submitted as run ${runId}; a builder ` +
        `submits once. Call q.dag('${dag}') again for another run.`,
    );
  }
}

/**
 * A task's function or arguments could not be serialized. Raised by
 * dag.task(), so the failing node is known before anything is stored; the
 * serializer's own error (with its reason and path) is the `cause`.
 */
export class DagNodeNotSerializableError extends DagError {
  override readonly code = 'DAG_NODE_NOT_SERIALIZABLE';
  constructor(
    readonly dag: string,
    readonly node: string,
    readonly serializer: string,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      `task '${node}' in DAG '${dag}' cannot be stored with the ` +
        `'${serializer}' serializer: ${why}`,
      { cause },
    );
  }
}

/** No run with this id in the store. */
export class DagRunNotFoundError extends DagError {
  override readonly code = 'DAG_RUN_NOT_FOUND';
  constructor(readonly runId: string) {
    super(
      `no DAG run with id '${runId}' in this store; it was never ` +
        `submitted here or was purged.`,
    );
  }
}

/** run.wait() gave up before every node reached a final state. */
export class DagWaitTimeoutError extends DagError {
  override readonly code = 'DAG_WAIT_TIMEOUT';
  constructor(
    readonly runId: string,
    readonly timeoutMs: number,
    readonly unfinished: number,
  ) {
    super(
      `DAG run ${runId} still has ${unfinished} unfinished node(s) after ` +
        `${timeoutMs} ms. Is a worker running on this queue? Wait longer ` +
        `or check run.status().`,
    );
  }
}

/**
 * ctx.upstream(name) for a node that is not a direct upstream of the
 * running task, or that has no result (it failed, was skipped, or in
 * 'any' mode had not finished when the task started).
 */
export class UpstreamResultError extends DagError {
  override readonly code = 'DAG_UPSTREAM_RESULT';
  constructor(
    readonly node: string,
    readonly upstream: string,
    readonly reason: string,
  ) {
    super(`task '${node}' asked for the result of '${upstream}': ${reason}`);
  }
}

/** q.retry(jobId) on the job of a DAG task. */
export class DagJobRetryError extends DagError {
  override readonly code = 'DAG_JOB_RETRY';
  constructor(
    readonly jobId: string,
    readonly runId: string,
    readonly node: string,
  ) {
    super(
      `job ${jobId} runs task '${node}' of DAG run ${runId}; retry the ` +
        `run instead: (await q.dagRun('${runId}')).retry() reruns its ` +
        `failed tasks and the tasks their failure skipped.`,
    );
  }
}

/** The store in use has no DAG tables or methods. */
export class DagUnsupportedStoreError extends DagError {
  override readonly code = 'DAG_UNSUPPORTED_STORE';
  constructor(readonly store: string) {
    super(
      `the '${store}' store does not implement DAG runs yet; use the ` +
        `'sqlite' store for DAG workflows.`,
    );
  }
}

function listNames(names: readonly string[]): string {
  if (names.length === 0) return '(none)';
  const shown = names.slice(0, 10).map((n) => `'${n}'`);
  const more = names.length > 10 ? `, ... ${names.length - 10} more` : '';
  return shown.join(', ') + more;
}
