// Error classes for every serializer. Callers branch with `instanceof`;
// messages name the bad value, the rule it broke and what to do instead.

/** Base class: anything that goes wrong while turning calls into bytes. */
export class SerializationError extends Error {
  override name = 'SerializationError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A value the chosen backend cannot carry. `path` says where it is
 * (`fn`, `args[0].onDone`, `captured variable 'socket'`) and `reason`
 * says why in a few words (`function is not exported from a module`).
 */
export class NotSerializableError extends SerializationError {
  override name = 'NotSerializableError';
  readonly reason: string;
  readonly path: string;
  /** What to do instead, in one sentence. */
  readonly advice: string;
  constructor(
    path: string,
    reason: string,
    advice: string,
    options?: { cause?: unknown },
  ) {
    super(`${path} cannot be serialized: ${reason}. ${advice}`, options);
    this.path = path;
    this.reason = reason;
    this.advice = advice;
  }
}

/** Bytes that are not a payload, are damaged, or cannot be loaded. */
export class DeserializationError extends SerializationError {
  override name = 'DeserializationError';
}

/** A payload a configured policy does not allow (signature, size...). */
export class PolicyViolationError extends DeserializationError {
  override name = 'PolicyViolationError';
}

/** A payload names a task that is not registered in this process. */
export class UnknownTaskError extends DeserializationError {
  override name = 'UnknownTaskError';
  readonly taskName: string;
  constructor(taskName: string, registered: readonly string[]) {
    const known = registered.length
      ? `registered tasks: ${registered.map((n) => `'${n}'`).join(', ')}`
      : 'no tasks are registered in this process';
    super(
      `unknown task '${taskName}' (${known}). Call ` +
        `registerTask('${taskName}', fn) in the worker before it loads jobs.`,
    );
    this.taskName = taskName;
  }
}

/** createSerializer() was given a name no backend is registered under. */
export class UnknownSerializerError extends SerializationError {
  override name = 'UnknownSerializerError';
  readonly serializerName: string;
  constructor(serializerName: string, registered: readonly string[]) {
    super(
      `unknown serializer '${serializerName}'; registered: ` +
        `${registered.map((n) => `'${n}'`).join(', ')}. Use one of them ` +
        `or add yours with registerSerializer('${serializerName}', factory).`,
    );
    this.serializerName = serializerName;
  }
}

/** An option passed to createSerializer() has the wrong type or range. */
export class SerializerOptionError extends SerializationError {
  override name = 'SerializerOptionError';
}

/** A configuration-based task got an `op` it has no handler for. */
export class UnknownOperationError extends SerializationError {
  override name = 'UnknownOperationError';
  constructor(task: string, op: unknown, known: readonly string[]) {
    super(
      `task '${task}' has no operation ${JSON.stringify(op)}; known: ` +
        `${known.map((k) => `'${k}'`).join(', ')}. Add a handler for it ` +
        'to registerConfigTask() in the worker.',
    );
  }
}
