import { z } from 'zod'

/**
 * An example plug-in processor: copy this file's shape into PROCESSORS_DIR. It replaces the
 * named top-level fields of object records with a mask and passes other records through.
 */
export const name = 'redact_fields'

export const schema = z.object({
  fields: z.array(z.string().min(1)).min(1).describe('Top-level fields to mask. Required.'),
  mask: z.string().default('***').describe('Replacement text. Default: "***".'),
  drop_unmatched: z.boolean().default(false).describe('Drop records that have none of the fields. Default: false.')
}).strict()

export function process (record: unknown, params: z.infer<typeof schema>): unknown {
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
