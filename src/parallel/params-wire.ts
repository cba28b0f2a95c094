import type { ScanSpec } from './worker-protocol.js'

const wired = new WeakMap<object, string | null>()

/**
 * The spec as it is posted to a worker thread: params go as JSON text when JSON.parse gives back
 * what structured clone would. V8 reads the properties of objects made by JSON.parse faster than
 * those made by the structured-clone deserializer, and a task reads its params once per record.
 */
export function toWire (spec: ScanSpec): ScanSpec {
  const json = paramsJson(spec.params)
  return json === undefined ? spec : { ...spec, params: undefined, paramsJson: json }
}

/** In the thread: the spec with its params as the task sees them. */
export function fromWire (spec: ScanSpec): ScanSpec {
  if (spec.paramsJson === undefined) return spec
  return { ...spec, params: JSON.parse(spec.paramsJson), paramsJson: undefined }
}

function paramsJson (params: unknown): string | undefined {
  if (params === null || typeof params !== 'object') return undefined
  let json = wired.get(params)
  if (json === undefined) {
    json = null
    try {
      const text = JSON.stringify(params)
      if (sameAsParsed(params, JSON.parse(text))) json = text
    } catch {
      // Cycles, big integers and nesting too deep for JSON: structured clone carries them.
    }
    wired.set(params, json)
  }
  return json ?? undefined
}

/** Whether `parsed` (JSON.parse of JSON.stringify(value)) holds exactly what structured clone would give of `value`. */
function sameAsParsed (value: unknown, parsed: unknown): boolean {
  if (value === null || typeof value !== 'object') return Object.is(value, parsed)
  if (parsed === null || typeof parsed !== 'object') return false
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype || !Array.isArray(parsed) || value.length !== parsed.length) return false
    if (Object.keys(value).length !== value.length) return false
    for (let i = 0; i < value.length; i++) if (!sameAsParsed(value[i], parsed[i])) return false
    return true
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if ((proto !== Object.prototype && proto !== null) || Array.isArray(parsed)) return false
  const keys = Object.keys(value)
  const parsedKeys = Object.keys(parsed)
  if (keys.length !== parsedKeys.length) return false
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]
    if (key !== parsedKeys[i] || !sameAsParsed((value as Record<string, unknown>)[key], (parsed as Record<string, unknown>)[key])) return false
  }
  return true
}
