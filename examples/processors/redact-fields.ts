import type { z } from 'zod'

/**
 * An example plug-in processor: copy the compiled file (dist/examples/processors/redact-fields.js)
 * into PROCESSORS_DIR. It replaces the named top-level fields of object records with a mask and
 * passes other records through. It imports nothing at run time: `schema` is a function that gets
 * the service's zod.
 */
export const name = 'redact_fields'

export const description = 'Replaces the named top-level fields of object records with a mask; other records pass through.'

export const schema = (zod: typeof z) => zod.object({
  fields: zod.array(zod.string().min(1)).min(1).describe('Top-level fields to mask. Required.'),
  mask: zod.string().default('***').describe('Replacement text. Default: "***".'),
  drop_unmatched: zod.boolean().default(false).describe('Drop records that have none of the fields. Default: false.')
}).strict()

type Params = z.infer<ReturnType<typeof schema>>

export function process (record: unknown, params: Params): unknown {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return params.drop_unmatched ? null : record
  const out: Record<string, unknown> = { ...record as Record<string, unknown> }
  let matched = false
  for (const field of params.fields) {
    if (Object.hasOwn(out, field)) {
      out[field] = params.mask
      matched = true
    }
  }
  return matched || !params.drop_unmatched ? out : null
}
