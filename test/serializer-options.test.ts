// createSerializer options: a key it does not take (a typo of root,
// slowSerializationMs or policy) is refused with the valid keys, for every
// built-in format, instead of being ignored.

import { describe, expect, it } from 'vitest';
import { createSerializer } from '../src/serialize/index.js';
import { SerializerOptionError } from '../src/serialize/errors.js';
import { SERIALIZER_OPTION_NAMES } from '../src/serialize/options.js';

describe('createSerializer options', () => {
  it.each(['json', 'v8', 'source', 'auto'])(
    "'%s' names an unknown key and lists the valid ones",
    (name) => {
      let err: unknown;
      try {
        createSerializer(name, { slowSerialisationMs: 5 } as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SerializerOptionError);
      expect((err as Error).message).toBe(
        "unknown serializer option 'slowSerialisationMs'; valid options: " +
          'root, slowSerializationMs, policy',
      );
    },
  );

  it('takes each documented key', () => {
    expect(SERIALIZER_OPTION_NAMES).toEqual(['root', 'slowSerializationMs', 'policy']);
    const s = createSerializer('json', {
      root: process.cwd(),
      slowSerializationMs: 50,
      policy: { strict: false },
    });
    expect(s.options.slowSerializationMs).toBe(50);
  });
});
