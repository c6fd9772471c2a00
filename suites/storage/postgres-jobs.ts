// The job the PostgreSQL scaling rows run: nothing, so the rows measure
// the queue and the database, not the work. Exported from a module so the
// 'v8' serializer stores it by reference and worker processes import it.

export function noop(): void {}
