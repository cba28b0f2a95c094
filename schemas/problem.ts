import { z } from 'zod'
import { SERVICE_ERRORS } from '../src/error-codes.js'
import { ScanValidationError } from '../src/errors.js'

export const fieldErrorSchema = z.object({
  path: z.string().describe('Where the bad value is, e.g. `source.start` or `pipeline[0].filter`.'),
  message: z.string().describe('What is wrong with it.')
}).meta({ id: 'FieldError' })

const example = new ScanValidationError('pipeline[0].filter: Unknown variable: recrd')

export const problemSchema = z.object({
  type: z.string().describe('URI reference naming the problem type.'),
  title: z.string().describe('Short summary: the HTTP reason phrase.'),
  status: z.number().int().describe('HTTP status code.'),
  detail: z.string().describe('What went wrong, for a person.'),
  code: z.enum(SERVICE_ERRORS.map((entry) => entry.code) as [string, ...string[]]).describe('Stable error code from the catalogue (docs/errors.md): what went wrong and what to do about it.'),
  instance: z.string().optional().describe('The request path.'),
  errors: z.array(fieldErrorSchema).optional().describe('Validation errors, one per bad field.')
}).describe('RFC 9457 problem details, sent as application/problem+json.').meta({
  id: 'Problem',
  examples: [{
    type: `urn:parascan:problem:${example.code}`,
    title: 'Bad Request',
    status: example.statusCode,
    detail: example.message,
    code: example.code,
    instance: '/v1/scans',
    errors: [{ path: 'pipeline[0].filter', message: 'Unknown variable: recrd' }]
  }]
})

export type Problem = z.infer<typeof problemSchema>
