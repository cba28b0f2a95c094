import { z } from 'zod'
import * as core from 'zod/v4/core'

const PROTO = '__proto__'

type Def = z.ZodRecord['_zod']['def']

/** The own `__proto__` property of a plain object, when it has one. */
function ownProto (input: unknown): { value: unknown } | undefined {
  if (!core.util.isPlainObject(input)) return undefined
  const descriptor = Object.getOwnPropertyDescriptor(input, PROTO)
  return descriptor?.enumerable === true ? { value: descriptor.value } : undefined
}

/** Gives `out` the own property `__proto__`, with the keys of `input` in their order. */
function withProto (input: object, out: Record<string, unknown>, value: unknown): void {
  Object.defineProperty(out, PROTO, { value, enumerable: true, writable: true, configurable: true })
  let after = false
  for (const key of Object.keys(input)) {
    if (key === PROTO) after = true
    else if (after && Object.hasOwn(out, key)) {
      const item = out[key]
      delete out[key]
      out[key] = item
    }
  }
}

/**
 * zod's record leaves a `__proto__` key out of what it parses, without an issue and without
 * checking its value. This one checks it as any other key and keeps it as an own property. The
 * definition is a record's, so the JSON Schema and the type are those of z.record.
 */
const ZodOwnKeyRecord = core.$constructor('ZodOwnKeyRecord', (inst: z.ZodRecord, def: Def) => {
  z.ZodRecord.init(inst, def)
  const parse = inst._zod.parse
  inst._zod.parse = (payload, ctx) => {
    const proto = ownProto(payload.value)
    const input = payload.value as object
    const result = parse(payload, ctx)
    if (proto === undefined) return result
    if (result instanceof Promise) throw new core.$ZodAsyncError()
    const key = def.keyType._zod.run({ value: PROTO, issues: [] }, ctx)
    if (key instanceof Promise) throw new core.$ZodAsyncError()
    if (key.issues.length > 0) {
      result.issues.push({ code: 'invalid_key', origin: 'record', issues: key.issues.map((issue) => core.util.finalizeIssue(issue, ctx, core.config())), input: PROTO, path: [PROTO], inst })
      return result
    }
    const value = def.valueType._zod.run({ value: proto.value, issues: [] }, ctx)
    if (value instanceof Promise) throw new core.$ZodAsyncError()
    if (value.issues.length > 0) result.issues.push(...core.util.prefixIssues(PROTO, value.issues))
    else withProto(input, result.value as Record<string, unknown>, value.value)
    return result
  }
})

/** z.record(key, value) that keeps every key of the input, `__proto__` included, as an own property. */
export function ownKeyRecord<K extends core.$ZodRecordKey, V extends core.SomeType> (key: K, value: V): z.ZodRecord<K, V> {
  return new ZodOwnKeyRecord({ type: 'record', keyType: key, valueType: value } as unknown as Def) as unknown as z.ZodRecord<K, V>
}
