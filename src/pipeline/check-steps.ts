import type { AggregateSpec, PipelineStep } from '../../schemas/scan-request.js'
import type { FieldError } from '../errors.js'
import { checkExpression } from './cel-expression.js'
import type { ProcessorCatalogue } from './processor-catalogue.js'
import type { StepParams } from './step-params.js'
import type { ParamsSchema } from './processor.js'
import { TaskModuleError, withCause } from '../parallel/errors.js'

function formatPath (base: string, path: ReadonlyArray<PropertyKey>): string {
  let out = base
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`
  return out
}

/** The processor's schema on `params`; a schema that throws or answers something else is a fault of its plug-in. */
function checkParams (name: string, schema: ParamsSchema<unknown>, params: unknown): ReturnType<ParamsSchema<unknown>['safeParse']> {
  let parsed: unknown
  try {
    parsed = schema.safeParse(params)
  } catch (error) {
    throw withCause(new TaskModuleError(`of processor "${name}"`, `schema.safeParse threw: ${error instanceof Error ? error.message : String(error)}`), error)
  }
  const result = parsed as { success?: unknown, error?: { issues?: unknown } } | null
  if (result?.success === true || (result?.success === false && Array.isArray(result.error?.issues))) return parsed as ReturnType<ParamsSchema<unknown>['safeParse']>
  throw new TaskModuleError(`of processor "${name}"`, 'schema.safeParse did not answer { success, data } or { success: false, error: { issues } }')
}

function checkCel (path: string, source: string, errors: FieldError[]): void {
  const problem = checkExpression(source)
  if (problem !== null) errors.push({ path, message: problem })
}

/** Checks the steps and resolves them for the workers; errors are pushed onto `errors`. */
export function checkSteps (steps: PipelineStep[], catalogue: ProcessorCatalogue, errors: FieldError[]): StepParams[] {
  return steps.map((step, i): StepParams => {
    if ('filter' in step) {
      checkCel(`pipeline[${i}].filter`, step.filter, errors)
      return { kind: 'filter', expr: step.filter }
    }
    if ('map' in step) {
      checkCel(`pipeline[${i}].map`, step.map, errors)
      return { kind: 'map', expr: step.map }
    }
    const entry = catalogue.entries.get(step.processor)
    if (entry === undefined) {
      errors.push({ path: `pipeline[${i}].processor`, message: `unknown processor ${JSON.stringify(step.processor)}; known: ${[...catalogue.entries.keys()].join(', ')}` })
      return { kind: 'processor', name: step.processor, params: step.params }
    }
    const parsed = checkParams(step.processor, entry.processor.schema, step.params ?? {})
    if (!parsed.success) {
      for (const issue of parsed.error.issues) errors.push({ path: formatPath(`pipeline[${i}].params`, issue.path), message: issue.message })
      return { kind: 'processor', name: step.processor, params: step.params }
    }
    return entry.module === undefined
      ? { kind: 'processor', name: step.processor, params: parsed.data }
      : { kind: 'processor', name: step.processor, params: parsed.data, module: entry.module }
  })
}

export function checkAggregate (spec: AggregateSpec, errors: FieldError[]): void {
  if (spec.group_by !== undefined) checkCel('aggregate.group_by', spec.group_by, errors)
  const names = Object.keys(spec.metrics)
  if (names.length === 0) errors.push({ path: 'aggregate.metrics', message: 'needs at least one metric' })
  for (const name of names) {
    const metric = spec.metrics[name]
    if (name === 'group') errors.push({ path: 'aggregate.metrics.group', message: '"group" is the name of the group column' })
    if (metric.expr !== undefined) checkCel(`aggregate.metrics.${name}.expr`, metric.expr, errors)
    else if (metric.op !== 'count') errors.push({ path: `aggregate.metrics.${name}.expr`, message: `${metric.op} needs an expression` })
  }
}
