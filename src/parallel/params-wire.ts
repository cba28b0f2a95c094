import { types } from 'node:util'
import type { ScanSpec } from './worker-protocol.js'

/**
 * The spec as it is posted to a worker thread: params go as JSON text when JSON.parse gives back
 * what structured clone would. V8 reads the properties of objects made by JSON.parse faster than
 * those made by the structured-clone deserializer, and a task reads its params once per record.
 * Decided on every call, as params may have changed since the last one.
 */
export function toWire (spec: ScanSpec): ScanSpec {
  return withJson(spec, paramsJson(spec.params))
}

/**
 * A toWire for specs posted one after another with no caller's code running in between (the
 * threads a scan starts at once): it decides once per params object. Drop it when the batch ends.
 */
export function batchToWire (): (spec: ScanSpec) => ScanSpec {
  let last: { params: unknown, json: string | undefined } | undefined
  return (spec) => {
    if (last === undefined || last.params !== spec.params) last = { params: spec.params, json: paramsJson(spec.params) }
    return withJson(spec, last.json)
  }
}

/** In the thread: the spec with its params as the task sees them. */
export function fromWire (spec: ScanSpec): ScanSpec {
  if (spec.paramsJson === undefined) return spec
  return { ...spec, params: JSON.parse(spec.paramsJson), paramsJson: undefined }
}

function withJson (spec: ScanSpec, json: string | undefined): ScanSpec {
  return json === undefined ? spec : { ...spec, params: undefined, paramsJson: json }
}

function paramsJson (params: unknown): string | undefined {
  if (params === null || typeof params !== 'object' || 'toJSON' in Array.prototype) return undefined
  try {
    return plain(params, { seen: new Set(), left: MAX_CHECKED_PROPERTIES }) ? JSON.stringify(params) : undefined
  } catch {
    // Nesting too deep for this check or for JSON: structured clone decides.
    return undefined
  }
}

/**
 * Whether JSON.parse(JSON.stringify(value)) gives exactly what structured clone would, found
 * without running any of the caller's code: no getter, Proxy trap or toJSON is called. Objects
 * seen twice (shared or cyclic) go by structured clone, which keeps them shared.
 */
/**
 * Params with more properties and elements than this go by structured clone without a look at the
 * rest: the check costs about a microsecond a property, a few times what serializing costs.
 */
const MAX_CHECKED_PROPERTIES = 1000

interface Walk {
  /** Objects met so far. */
  seen: Set<object>
  /** Properties the check may still read. */
  left: number
}

function plain (value: unknown, walk: Walk): boolean {
  switch (typeof value) {
    case 'string': case 'boolean': return true
    case 'number': return Number.isFinite(value) && !Object.is(value, -0)
    case 'object': break
    default: return false
  }
  if (value === null) return true
  if (walk.seen.has(value) || special(value)) return false
  walk.seen.add(value)
  if (Array.isArray(value)) {
    if ((walk.left -= value.length + 1) < 0 || Object.getPrototypeOf(value) !== Array.prototype || Object.keys(value).length !== value.length) return false
    for (let i = 0; i < value.length; i++) if (!plainProperty(value, i, walk)) return false
    return true
  }
  const keys = Object.keys(value)
  if ((walk.left -= keys.length + 1) < 0) return false
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return false
  for (let i = 0; i < keys.length; i++) if (!plainProperty(value, keys[i], walk)) return false
  return true
}

function plainProperty (object: object, key: string | number, walk: Walk): boolean {
  const property = Object.getOwnPropertyDescriptor(object, key)
  return property !== undefined && 'value' in property && plain(property.value, walk)
}

const {
  isProxy, isExternal, isArgumentsObject, isModuleNamespaceObject, isBoxedPrimitive, isDate, isRegExp, isMap, isSet, isWeakMap, isWeakSet,
  isNativeError, isAnyArrayBuffer, isArrayBufferView, isPromise, isGeneratorObject, isMapIterator, isSetIterator
} = types

/** Objects structured clone treats apart or refuses, whatever their prototype (it may have been set to Object.prototype). */
function special (value: object): boolean {
  return isProxy(value) || isExternal(value) || isArgumentsObject(value) || isModuleNamespaceObject(value) || isBoxedPrimitive(value) ||
    isDate(value) || isRegExp(value) || isMap(value) || isSet(value) || isWeakMap(value) || isWeakSet(value) || isNativeError(value) ||
    isAnyArrayBuffer(value) || isArrayBufferView(value) || isPromise(value) || isGeneratorObject(value) || isMapIterator(value) || isSetIterator(value)
}
