// Reads the serializers' capability matrix (src/serialize/capability.ts)
// into the benchmark's CapabilityData shape.

import type { CapabilityData } from './suite-data.js';

export class CapabilityMatrixUnavailableError extends Error {
  constructor(cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      'the capability matrix could not be loaded: src/serialize/' +
        `capability.ts must export runCapabilityMatrix() (${why}). The ` +
        'capability suite reports real round trips only; it has nothing ' +
        'to show until the matrix exists.',
    );
    this.name = 'CapabilityMatrixUnavailableError';
  }
}

export async function loadCapabilityMatrix(
  progress: (task: string, done?: number, total?: number) => void,
): Promise<CapabilityData> {
  let mod: Record<string, unknown>;
  try {
    // A variable specifier: the module may not exist in this checkout.
    const specifier = '../serialize/capability.js';
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    throw new CapabilityMatrixUnavailableError(error);
  }
  const run = mod['runCapabilityMatrix'];
  if (typeof run !== 'function') {
    throw new CapabilityMatrixUnavailableError(
      new Error('runCapabilityMatrix is not exported'),
    );
  }
  progress('matrix');
  throw new CapabilityMatrixUnavailableError(
    new Error('matrix format not recognised yet'),
  );
}
