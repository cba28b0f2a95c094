import type { AggregateSpec, PipelineStep, SourceSpec } from '../../schemas/scan-request.js'
import type { FieldError } from '../errors.js'
import { celEnvironment, typedCelEnvironment, type RecordCelType } from './cel-environment.js'
import { describeCelError } from './cel-expression.js'
import { fileFormat } from '../sources/file-format.js'
import { jsonBytesUpTo } from './value-size.js'

/** What is known at submit time about the record that a step receives. */
export interface StepInput {
  type: RecordCelType
  /** Why the record has that type, e.g. "the records of a range are ints". */
  origin: string
  /** A real record of the source taken through the steps so far (a CEL value), when one is known. */
  sample?: { value: unknown }
}

const UNKNOWN: StepInput = { type: 'dyn', origin: '' }

/** Run-time errors that a type mismatch gives (and that a value alone does not). */
const TYPE_ERROR_CODES = new Set(['no_such_overload', 'no_matching_overload', 'no_such_key'])

const ARTICLE: Record<RecordCelType, string> = { dyn: 'a dyn', int: 'an int', double: 'a double', string: 'a string', bool: 'a bool', map: 'a map', list: 'a list' }

const FILTER_HINT: Partial<Record<string, string>> = {
  int: '`record % 2 == 0` or `record > 10`',
  double: '`record > 0.5` or `record != 0`',
  string: '`record != ""` or `record.startsWith("a")`',
  map: '`has(record.x)` or `record.x > 0`',
  list: '`size(record) > 0`'
}

function jsonCelType (value: unknown): RecordCelType | null {
  switch (typeof value) {
    case 'number': return 'double'
    case 'string': return 'string'
    case 'boolean': return 'bool'
    case 'object': return value === null ? null : Array.isArray(value) ? 'list' : 'map'
    default: return 'dyn'
  }
}

function declaredType (checked: string | undefined): RecordCelType {
  if (checked === undefined) return 'dyn'
  if (checked === 'int' || checked === 'double' || checked === 'string' || checked === 'bool') return checked
  if (checked.startsWith('map<') || checked === 'map') return 'map'
  if (checked.startsWith('list<') || checked === 'list') return 'list'
  return 'dyn'
}

/** The type of a source's records, and its first record, when every record has one type. */
export function sourceInput (source: SourceSpec): StepInput {
  switch (source.type) {
    case 'range':
      return source.end > source.start
        ? { type: 'int', origin: 'the records of a range are ints', sample: { value: BigInt(source.start) } }
        : { type: 'int', origin: 'the records of a range are ints' }
    case 'inline': {
      let type: RecordCelType | null = null
      let sample: unknown
      for (const record of source.records) {
        const t = jsonCelType(record)
        if (t === null) continue
        if (type === null) {
          type = t
          sample = record
        } else if (t !== type) return UNKNOWN
      }
      if (type === null || type === 'dyn') return UNKNOWN
      const origin = `every record of this inline source is ${ARTICLE[type]}`
      return (JSON.stringify(sample)?.length ?? Infinity) <= MAX_SAMPLE_JSON ? { type, origin, sample: { value: sample } } : { type, origin }
    }
    case 'file':
      return fileFormat(source) === 'csv' ? { type: 'map', origin: 'CSV records are maps of column names to values' } : UNKNOWN
  }
}

/** Calls whose cost is not bounded by the expression's size: they are not run at submit time. */
const UNBOUNDED_CALLS = new Set(['map', 'filter', 'all', 'exists', 'exists_one', 'matches'])
const MAX_SAMPLE_JSON = 4096

function boundedCost (node: unknown): boolean {
  if (Array.isArray(node)) return node.every(boundedCost)
  if (typeof node !== 'object' || node === null || !('op' in node) || !('args' in node)) return true
  const { op, args } = node as { op: string, args: unknown }
  if ((op === 'call' || op === 'rcall') && Array.isArray(args) && UNBOUNDED_CALLS.has(args[0] as string)) return false
  return boundedCost(args)
}

function evaluateSample (source: string, input: StepInput): { value: unknown } | { error: { code?: string } } | undefined {
  if (input.sample === undefined) return undefined
  const program = celEnvironment.parse(source)
  if (!boundedCost(program.ast)) return undefined
  try {
    return { value: program({ record: input.sample.value }) }
  } catch (error) {
    return { error: error as { code?: string } }
  }
}

/**
 * Checks one expression against what is known of its record; pushes a problem only for what
 * cannot work: a filter whose value can never be a bool, or a type mismatch that the type checker
 * finds and that the source's own first record shows at run time. Returns what the next step gets.
 */
function checkTyped (path: string, source: string, input: StepInput, isFilter: boolean, errors: FieldError[]): StepInput {
  if (input.type === 'dyn') return UNKNOWN
  const checked = typedCelEnvironment(input.type).check(source)
  const sampled = evaluateSample(source, input)
  if (!checked.valid) {
    if (sampled !== undefined && 'error' in sampled && TYPE_ERROR_CODES.has(sampled.error.code ?? '')) {
      errors.push({ path, message: `${describeCelError(source, checked.error as Error)}: record is ${ARTICLE[input.type]} here (${input.origin})` })
    }
    return UNKNOWN
  }
  if (isFilter) {
    if (checked.type !== 'bool' && checked.type !== 'dyn') {
      const hint = FILTER_HINT[input.type === checked.type ? input.type : declaredType(checked.type)]
      errors.push({
        path,
        message: `a filter must give a bool, and this one gives ${checked.type === undefined ? 'another type' : checked.type} (${input.origin}); compare the value instead${hint === undefined ? '' : `, e.g. ${hint}`}`
      })
    }
    return input
  }
  const type = declaredType(checked.type)
  if (type === 'dyn') return UNKNOWN
  const output: StepInput = { type, origin: `${path} gives ${ARTICLE[type]}` }
  // The sample goes on only while it is small: a map that doubles it at every step must not grow it in the main thread.
  if (sampled !== undefined && 'value' in sampled && sampled.value !== null && sampled.value !== undefined &&
    jsonBytesUpTo(sampled.value, MAX_SAMPLE_JSON) <= MAX_SAMPLE_JSON) output.sample = sampled
  return output
}

/**
 * Submit-time type checks of a pipeline whose expressions compile: the record's type flows from
 * the source through `filter` and `map` steps (a processor's output is unknown).
 */
export function checkRecordTypes (source: SourceSpec, steps: PipelineStep[], aggregate: AggregateSpec | undefined, errors: FieldError[]): void {
  let input = sourceInput(source)
  for (const [i, step] of steps.entries()) {
    if ('filter' in step) input = checkTyped(`pipeline[${i}].filter`, step.filter, input, true, errors)
    else if ('map' in step) input = checkTyped(`pipeline[${i}].map`, step.map, input, false, errors)
    else input = UNKNOWN
  }
  if (aggregate === undefined) return
  if (aggregate.group_by !== undefined && input.type !== 'dyn') checkTyped('aggregate.group_by', aggregate.group_by, input, false, errors)
  for (const [name, metric] of Object.entries(aggregate.metrics)) {
    if (metric.expr === undefined) continue
    const path = `aggregate.metrics.${name}.expr`
    const found = errors.length
    if (input.type !== 'dyn') checkTyped(path, metric.expr, input, false, errors)
    if (errors.length === found) checkNumeric(path, metric.expr, input, errors)
  }
}

/** Types a metric's value may have: a number, null (left out), or one not known before it runs. */
const METRIC_TYPES = new Set(['int', 'uint', 'double', 'null', 'dyn'])

/** A metric whose expression type-checks to a known type that is not a number would fail at its first record. */
function checkNumeric (path: string, source: string, input: StepInput, errors: FieldError[]): void {
  const checked = typedCelEnvironment(input.type).check(source)
  if (!checked.valid || checked.type === undefined || METRIC_TYPES.has(checked.type)) return
  const origin = input.type === 'dyn' ? '' : ` (${input.origin})`
  errors.push({ path, message: `a metric must give a number, and this one gives ${checked.type}${origin}; e.g. \`double(…)\` or \`size(…)\` make one` })
}
