import { setOwnProperty } from './own-property.js'

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
const MIN_SAFE = -MAX_SAFE

function integerToJson (value: bigint, where: string): number {
  if (value > MAX_SAFE || value < MIN_SAFE) {
    throw new Error(`${where}: integer ${value} is outside the JSON safe range ±(2^53-1); use string() or double()`)
  }
  return Number(value)
}

/**
 * Converts a CEL value to a plain JSON value: ints become numbers (refused outside ±(2^53-1)),
 * uints likewise, bytes become base64 text, timestamps ISO 8601 text, durations e.g. "90s",
 * types their name; maps become objects and lists arrays. NaN and infinities are refused.
 */
export function celToJson (value: unknown, where = 'result'): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`${where}: ${value} is not representable in JSON`)
      return value
    case 'bigint':
      return integerToJson(value, where)
    case 'undefined':
      return null
    case 'object':
      break
    default:
      throw new Error(`${where}: a ${typeof value} is not a JSON value`)
  }
  if (value === null) return null
  if (Array.isArray(value)) {
    const out = new Array(value.length)
    for (let i = 0; i < value.length; i++) out[i] = celToJson(value[i], `${where}[${i}]`)
    return out
  }
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
  if (value instanceof Date) return value.toISOString()
  if (value instanceof Map) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of value) setOwnProperty(out, String(k), celToJson(v, `${where}.${String(k)}`))
    return out
  }
  const proto = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(value)) setOwnProperty(out, k, celToJson((value as Record<string, unknown>)[k], `${where}.${k}`))
    return out
  }
  const ctor = (proto as { constructor?: { name?: string } }).constructor?.name
  if (ctor === 'UnsignedInt' && typeof (value as { value?: unknown }).value !== 'undefined') {
    const inner = (value as { value: bigint | number }).value
    return typeof inner === 'bigint' ? integerToJson(inner, where) : inner
  }
  return String(value)
}
