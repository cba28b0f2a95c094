/**
 * A deep copy of a value made of plain objects, arrays and primitives (what the store keeps of a
 * scan): several times faster than structuredClone on the small records that every status read
 * copies. Keys whose value is undefined are kept, as structuredClone keeps them; a `__proto__` key
 * (an aggregate's group can be named so) stays an own property.
 */
export function copyJson<T> (value: T): T {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length)
    for (let i = 0; i < value.length; i++) out[i] = copyJson(value[i])
    return out as T
  }
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    const copy = copyJson((value as Record<string, unknown>)[key])
    if (key === '__proto__') Object.defineProperty(out, key, { value: copy, writable: true, enumerable: true, configurable: true })
    else out[key] = copy
  }
  return out as T
}
