// Sizes over the serializers' capability corpus, read from the matrix that
// src/serialize/capability.ts produces (every shape × backend, serialized
// in a fresh process).

import type { CorpusSizeRow } from './suite-data.js';

export interface CorpusSizes {
  rows: CorpusSizeRow[];
  note?: string;
}

export async function loadCorpusSizes(): Promise<CorpusSizes> {
  return {
    rows: [],
    note:
      'the capability matrix (src/serialize/capability.ts) is not ' +
      'available in this checkout, so corpus sizes were not measured',
  };
}
