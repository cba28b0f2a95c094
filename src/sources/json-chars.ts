/** Character codes of JSON syntax, shared by the extractors that scan JSON text and JSON bytes. */
export const QUOTE = 0x22
export const BACKSLASH = 0x5c
export const OPEN_OBJECT = 0x7b
export const CLOSE_OBJECT = 0x7d
export const OPEN_ARRAY = 0x5b
export const CLOSE_ARRAY = 0x5d
export const COMMA = 0x2c
export const COLON = 0x3a
export const MINUS = 0x2d
export const PLUS = 0x2b
export const DOT = 0x2e
export const ZERO = 0x30
export const ONE = 0x31
export const NINE = 0x39
/** Deepest nesting the extractors follow. */
export const MAX_DEPTH = 64

/** Whether `c` is the code of a hexadecimal digit. */
export function isHex (c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
}

/** Whether `e`, after a backslash, is an escape of one character: " \\ / b f n r t. */
export function isShortEscape (e: number): boolean {
  return e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74
}
