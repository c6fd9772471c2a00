// How deeply nested a body is, found by one linear pass over its bytes
// without decoding it. Decoders recurse; a body nested a million levels deep
// would exhaust their stack (or spend seconds failing), so the depth limit is
// checked first, by loops that use no recursion and allocate nothing.

/** Result of a scan: the deepest nesting seen, or that the limit was hit. */
export interface DepthScan {
  /** Deepest nesting seen (stops counting once past the limit). */
  depth: number;
  exceeded: boolean;
  /**
   * False when the scanner met something it does not know (a newer v8
   * tag, say) and stopped early. The decoder then has the last word; it
   * still fails cleanly, just later and with its own error.
   */
  complete: boolean;
  /** A key from the caller's watch list, when one was found. */
  key?: string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;

/**
 * Nesting depth of JSON text given as UTF-8 bytes. Brackets inside strings
 * are skipped; multi-byte UTF-8 never contains ASCII bytes, so a byte scan
 * is exact. With `keys`, the first object key in that set is reported
 * (escapes such as `\u005f_proto__` are decoded before comparing).
 */
export function jsonDepth(
  bytes: Uint8Array,
  limit: number,
  keys?: ReadonlySet<string>,
): DepthScan {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === QUOTE) {
      const start = i;
      for (i++; i < bytes.length && bytes[i] !== QUOTE; i++) {
        if (bytes[i] === BACKSLASH) i++;
      }
      if (keys && isKey(bytes, i + 1)) {
        const key = keyIn(bytes, start, i + 1, keys);
        if (key !== undefined) {
          return { depth: max, exceeded: false, complete: true, key };
        }
      }
    } else if (b === OPEN_BRACKET || b === OPEN_BRACE) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return { depth: max, exceeded: true, complete: true };
      }
    } else if (b === CLOSE_BRACKET || b === CLOSE_BRACE) depth--;
  }
  return { depth: max, exceeded: false, complete: true };
}

const COLON = 0x3a;
const LONGEST_KEY_TOKEN = 80;

/** True when the next non-blank byte from `at` is a colon. */
function isKey(bytes: Uint8Array, at: number): boolean {
  while (at < bytes.length) {
    const b = bytes[at++]!;
    if (b === COLON) return true;
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return false;
  }
  return false;
}

function keyIn(
  bytes: Uint8Array,
  start: number,
  end: number,
  keys: ReadonlySet<string>,
): string | undefined {
  if (end - start > LONGEST_KEY_TOKEN) return undefined;
  let text = '';
  for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]!);
  try {
    const key = JSON.parse(text) as string;
    return keys.has(key) ? key : undefined;
  } catch {
    return undefined;
  }
}

// Tags of the v8 ValueSerializer wire format (v8/src/objects/
// value-serializer.cc), by what follows them.
const T = (c: string): number => c.charCodeAt(0);
const NO_PAYLOAD = new Set(
  ['\0', '-', '_', '0', 'T', 'F', 'y', 'x', 's'].map(T),
);
const ONE_VARINT = new Set(['?', 'I', 'U', '^', 't', 'u', 'p', 'w', 'm'].map(T));
const EIGHT_BYTES = new Set(['N', 'D', 'n'].map(T));
const LENGTH_THEN_BYTES = new Set(['S', '"', 'c', 'B'].map(T));
const BEGIN = new Set(['o', ';', "'"].map(T));
const BEGIN_WITH_LENGTH = new Set(['A', 'a'].map(T));
const END_ONE_VARINT = new Set(['{', ':', ','].map(T));
const END_TWO_VARINTS = new Set(['$', '@'].map(T));
const VERSION = 0xff;
const BIGINT = T('Z');
const BIGINT_OBJECT = T('z');
const REGEXP = T('R');
const RESIZABLE_BUFFER = T('~');
const VIEW = T('V');
const HOST_OBJECT = T('\\');

/**
 * Nesting depth of a node:v8 `serialize()` buffer: objects, arrays, maps
 * and sets count one level each.
 */
export function v8Depth(bytes: Uint8Array, limit: number): DepthScan {
  const r = new ByteReader(bytes);
  let depth = 0;
  let max = 0;
  let version = 0;
  while (r.at < bytes.length) {
    const tag = bytes[r.at++]!;
    if (tag === VERSION) {
      version = r.varint();
      if (version < 0) return stopped(max);
    } else if (NO_PAYLOAD.has(tag)) {
      continue;
    } else if (ONE_VARINT.has(tag)) {
      if (r.varint() < 0) return stopped(max);
    } else if (EIGHT_BYTES.has(tag)) {
      r.at += 8;
    } else if (LENGTH_THEN_BYTES.has(tag)) {
      const length = r.varint();
      if (length < 0) return stopped(max);
      r.at += length;
    } else if (BEGIN.has(tag) || BEGIN_WITH_LENGTH.has(tag)) {
      if (BEGIN_WITH_LENGTH.has(tag) && r.varint() < 0) return stopped(max);
      if (++depth > max) {
        max = depth;
        if (max > limit) return { depth: max, exceeded: true, complete: true };
      }
    } else if (END_ONE_VARINT.has(tag)) {
      if (r.varint() < 0) return stopped(max);
      depth--;
    } else if (END_TWO_VARINTS.has(tag)) {
      if (r.varint() < 0 || r.varint() < 0) return stopped(max);
      depth--;
    } else if (tag === BIGINT || tag === BIGINT_OBJECT) {
      const bitfield = r.varint();
      if (bitfield < 0) return stopped(max);
      r.at += Math.floor(bitfield / 2);
    } else if (tag === REGEXP) {
      // The pattern follows as a tagged string, then a varint of flags.
      const stringTag = bytes[r.at++];
      if (stringTag === undefined || !LENGTH_THEN_BYTES.has(stringTag)) {
        return stopped(max);
      }
      const length = r.varint();
      if (length < 0) return stopped(max);
      r.at += length;
      if (r.varint() < 0) return stopped(max);
    } else if (tag === RESIZABLE_BUFFER) {
      const length = r.varint();
      if (length < 0 || r.varint() < 0) return stopped(max);
      r.at += length;
    } else if (tag === VIEW) {
      // Sub-tag, offset, length, and flags from format version 14 on.
      const fields = version >= 14 ? 3 : 2;
      r.at++;
      for (let i = 0; i < fields; i++) if (r.varint() < 0) return stopped(max);
    } else if (tag === HOST_OBJECT) {
      // Node writes typed arrays as: type index, byte length, raw bytes.
      if (r.varint() < 0) return stopped(max);
      const length = r.varint();
      if (length < 0) return stopped(max);
      r.at += length;
    } else {
      // Errors ('r') and anything newer: leave the rest to the decoder.
      return stopped(max);
    }
  }
  return { depth: max, exceeded: false, complete: true };
}

// A cursor over bytes; a class rather than closures so a scan allocates one
// small object.
class ByteReader {
  at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  /** The next unsigned varint; -1 when it runs past the end or is too long. */
  varint(): number {
    const bytes = this.bytes;
    let value = 0;
    let shift = 0;
    while (this.at < bytes.length && shift <= 49) {
      const b = bytes[this.at++]!;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
      shift += 7;
    }
    return -1;
  }
}

function stopped(max: number): DepthScan {
  return { depth: max, exceeded: false, complete: false };
}
