import { z } from 'zod'
import { ownKeyRecord } from './own-key-record.js'

export const processorInfoSchema = z.object({
  name: z.string().describe('What a pipeline step names in `processor`.'),
  description: z.string().nullable().describe('What it does; null when the plug-in gives none.'),
  builtin: z.boolean().describe('True for processors of the service itself, false for plug-ins of PARASCAN_PROCESSORS_DIR.'),
  params_schema: ownKeyRecord(z.string(), z.unknown()).nullable()
    .describe('JSON Schema (draft 2020-12) of the step\'s `params`; null when the plug-in gives none and it cannot be derived.')
}).describe('A processor that pipeline steps can use.').meta({
  id: 'Processor',
  examples: [{
    name: 'redact_fields',
    description: 'Replaces the named top-level fields of object records with a mask; other records pass through.',
    builtin: false,
    params_schema: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { fields: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 }, mask: { type: 'string', default: '***' } },
      required: ['fields'],
      additionalProperties: false
    }
  }]
})

export const processorListSchema = z.object({
  items: z.array(processorInfoSchema).describe('Built-in processors first, then plug-ins by name.')
}).meta({ id: 'ProcessorList' })

export type ProcessorInfo = z.infer<typeof processorInfoSchema>
