// The code a loader compiles for one function of a source body (load.ts),
// built in one place so the encoder can run the policy's code check on
// exactly that text before a job is written (index.ts).

import type { Hole } from './encode.js';

const IDENTIFIER = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*$/u;

/** Names the loader reserves for itself start with this. */
export const RESERVED_PREFIX = '__dq$';

/** True for a name a capture may have: an identifier not reserved. */
export function isCaptureName(name: string): boolean {
  return IDENTIFIER.test(name) && !name.startsWith(RESERVED_PREFIX);
}

/**
 * The exact code compiled for a function hole: its captures as `let`
 * bindings, a maker and one setter per capture. The encoder runs the
 * policy's code check on the same text, so what a worker would refuse is
 * refused when the job is sent.
 */
export function factoryCode(hole: Hole & { k: 'fn' }, names: string[]): string {
  const made =
    hole.form === 'method' ? `__dq$method({${hole.src}\n})` : `(${hole.src}\n)`;
  return (
    (hole.strict ? '"use strict";\n' : '') +
    (names.length ? `let ${names.join(', ')};\n` : '') +
    `return { make: () => ${made},\n` +
    `set: [${names.map((n) => `(__dq$v) => { ${n} = __dq$v; }`).join(', ')}] };`
  );
}
