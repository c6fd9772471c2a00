// Text from the database (function names, error messages) was written by
// whoever could write a row. Printed raw, an escape sequence in it can
// rewrite an operator's terminal (move the cursor, change the title,
// hide lines), so control characters are shown as escapes instead.

// C0 controls, DEL and C1 controls (0x9b is a one-byte CSI on some
// terminals). Tab and newline are included: log lines stay one line.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** `text` with every control character written as a \uXXXX escape. */
export function printable(text: string): string {
  return text.replace(
    CONTROL,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** True when `text` holds a character printable() would escape. */
export function hasControl(text: string): boolean {
  CONTROL.lastIndex = 0;
  return CONTROL.test(text);
}
