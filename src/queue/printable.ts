// Text from the database (function names, error messages) was written by
// whoever could write a row. Printed raw, an escape sequence in it can
// rewrite an operator's terminal (move the cursor, change the title,
// hide lines), so control characters are shown as escapes instead.

// C0 controls, DEL and C1 controls (0x9b is a one-byte CSI on some
// terminals). Tab and newline are included: log lines stay one line.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * `text` with every control character written as a \uXXXX escape. A
 * planted cell may hold bytes or a number where text belongs: those are
 * shown as strings rather than trusted.
 */
export function printable(text: unknown): string {
  return String(text).replace(
    CONTROL,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** True when `text` holds a character printable() would escape. */
export function hasControl(text: string): boolean {
  CONTROL.lastIndex = 0;
  return CONTROL.test(text);
}

/**
 * JSON text with DEL and C1 controls escaped too (JSON.stringify escapes
 * only C0). The result is still valid JSON with the same value.
 */
export function printableJson(json: string): string {
  return json.replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
