/**
 * Set by jsonBytesUpTo: whether the part of the value it measured holds NaN, an infinity or a
 * BigInt, which JSON.stringify cannot write as they are (celToJson writes or refuses them).
 */
let unwritable = false
/** Set by jsonBytesUpTo: whether the value holds a function, a symbol or an object of some other class, whose JSON (toJSON, own properties) is not measured. */
let opaque = false

/** Whether the last value that jsonBytesUpTo measured holds NaN, an infinity or a BigInt (within the part it walked). */
export function measuredUnwritable (): boolean {
  return unwritable
}

/** Whether the last value that jsonBytesUpTo measured holds a function, a symbol or an object of a class other than Array, Uint8Array, Date and Map (within the part it walked). */
export function measuredOpaque (): boolean {
  return opaque
}

/**
 * Size of a value as JSON in UTF-8 bytes, counted only until it passes `limit`: the walk stops
 * there, so measuring a huge value costs no more than measuring one just over the limit. Strings
 * count their UTF-8 bytes and quotes (escapes are not counted), numbers their digits; CEL values
 * count as celToJson writes them. Returns a number greater than `limit` when the value is larger.
 */
export function jsonBytesUpTo (value: unknown, limit: number): number {
  unwritable = false
  opaque = false
  return measure(value, limit, 0)
}

/** 10^1 … 10^21, every one exact as a double. */
const POWERS_OF_TEN = Array.from({ length: 21 }, (_, i) => 10 ** (i + 1))

/** Characters of a number as JSON (at most 24), without making its text when it is an integer that JSON writes in full. */
function numberBytes (value: number): number {
  if (value === 0) return 1
  const magnitude = value < 0 ? -value : value
  if (magnitude >= 1e21 || !Number.isInteger(magnitude)) return Math.min(24, String(value).length)
  let digits = 1
  while (magnitude >= POWERS_OF_TEN[digits - 1]) digits++
  return value < 0 ? digits + 1 : digits
}

function stringBytes (text: string, room: number): number {
  if (text.length > room) return text.length + 2
  return (text.length < 32 && isAscii(text) ? text.length : Buffer.byteLength(text, 'utf8')) + 2
}

function isAscii (text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false
  return true
}

// typeof tests rather than a switch on typeof: each test stays a type check in optimized code, where
// the switch calls V8's Typeof builtin for every value measured.
function measure (value: unknown, limit: number, used: number): number {
  if (typeof value === 'string') return used + stringBytes(value, limit - used)
  if (typeof value === 'number') {
    if (value - value !== 0) unwritable = true
    return used + numberBytes(value)
  }
  if (typeof value === 'boolean') return used + 5
  if (typeof value === 'bigint') {
    unwritable = true
    return used + (value === 0n ? 1 : Math.min(24, String(value).length))
  }
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'function' || typeof value === 'symbol') opaque = true
    return used + 4
  }
  if (Array.isArray(value)) {
    used += 2
    for (let i = 0; i < value.length && used <= limit; i++) used = measure(value[i], limit, used + 1)
    return used
  }
  if (value instanceof Uint8Array) return used + Math.ceil(value.byteLength / 3) * 4 + 2
  if (value instanceof Date) return used + 26
  if (value instanceof Map) {
    used += 2
    for (const [k, v] of value) {
      if (used > limit) break
      used = measure(v, limit, stringBytes(String(k), limit - used) + used + 2)
    }
    return used
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) {
    opaque = true
    return used + 24
  }
  used += 2
  for (const k in value) {
    if (used > limit) break
    if (!Object.hasOwn(value, k)) continue
    used = measure((value as Record<string, unknown>)[k], limit, stringBytes(k, limit - used) + used + 2)
  }
  return used
}
