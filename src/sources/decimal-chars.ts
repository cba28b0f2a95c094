export const PLUS = 0x2b
export const MINUS = 0x2d
export const DOT = 0x2e

/** Whether the character or byte code `c` is an ASCII digit. */
export function isDigit (c: number): boolean {
  return c >= 0x30 && c <= 0x39
}
