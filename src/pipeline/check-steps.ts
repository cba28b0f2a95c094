import type { AggregateSpec, PipelineStep } from '../../schemas/scan-request.js'
import type { FieldError } from '../errors.js'
import { checkExpression } from './cel-expression.js'
import type { ProcessorCatalogue } from './processor-catalogue.js'
import type { StepParams } from './step-params.js'

function formatPath (base: string, path: ReadonlyArray<PropertyKey>): string {
  let out = base
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`
  return out
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
    const parsed = entry.processor.schema.safeParse(step.params ?? {})
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
