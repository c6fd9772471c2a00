// Job functions the queue suite enqueues. In their own module so every
// backend can carry them: v8 and auto by reference, json by registered
// name, source by value.

/** Does nothing: the queue's own cost is what the suite measures. */
export function noopJob(): void {}
