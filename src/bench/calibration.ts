// A fixed amount of plain JavaScript work that no code in this project
// touches. Rows whose natural reference is themselves (the v8 rows) are
// divided by it, so their ratio still cancels a machine-wide slowdown.

const BYTES = Uint8Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 0xff);

export const CALIBRATION_ID = 'calibration.fnv1a4k';

/** FNV-1a hash of the same 4 KiB every time (a few microseconds). */
export function calibrationWorkload(): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < BYTES.length; i++) {
    hash ^= BYTES[i]!;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
