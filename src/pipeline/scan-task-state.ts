import type { AggregateSpec } from '../../schemas/scan-request.js'
import { openSourceReader } from '../sources/open-source-reader.js'
import type { SourceReader } from '../sources/source-reader.js'
import { Aggregation } from './aggregation.js'
import { CompiledPipeline, DROPPED } from './compiled-pipeline.js'
import { recordFields } from './record-fields.js'
import type { ScanParams } from './scan-params.js'

interface Projection {
  fields: ReadonlySet<string>
  /** Steps that run on the projected record (the leading filters). */
  steps: number
  /** Whether the rest of the work needs the whole record. */
  whole: boolean
}

function aggregateExpressions (spec: AggregateSpec): string[] {
  const out = spec.group_by === undefined ? [] : [spec.group_by]
  for (const metric of Object.values(spec.metrics)) if (metric.expr !== undefined) out.push(metric.expr)
  return out
}

/**
 * When the leading filters (and the aggregate, if nothing else follows) read only top-level
 * fields of the record, a reader that can decode just those fields does so; the whole record is
 * decoded only for records that pass, and only when something needs it.
 */
function planProjection (params: ScanParams, reader: SourceReader, pipeline: CompiledPipeline): Projection | undefined {
  if (reader.decodeFields === undefined) return undefined
  const steps = pipeline.leadingFilters
  const whole = steps < pipeline.length || params.aggregate === undefined
  if (whole && steps === 0) return undefined
  const expressions = params.steps.slice(0, steps).map((step) => (step as { expr: string }).expr)
  if (!whole && params.aggregate !== undefined) expressions.push(...aggregateExpressions(params.aggregate))
  const fields = recordFields(expressions)
  return fields === null ? undefined : { fields, steps, whole }
}

/** A scan's reader, compiled steps and aggregation inside one thread. */
export class ScanTaskState {
  readonly reader: SourceReader
  readonly pipeline: CompiledPipeline
  readonly aggregation?: Aggregation
  readonly #projection?: Projection

  private constructor (params: ScanParams, reader: SourceReader, pipeline: CompiledPipeline) {
    this.reader = reader
    this.pipeline = pipeline
    if (params.aggregate !== undefined) this.aggregation = new Aggregation(params.aggregate, params.limits)
    this.#projection = planProjection(params, reader, pipeline)
  }

  static #withReader (params: ScanParams, build: (integerRecords: boolean) => CompiledPipeline): ScanTaskState {
    const reader = openSourceReader(params.source)
    try {
      return new ScanTaskState(params, reader, build(reader.integerRecords))
    } catch (error) {
      reader.close()
      throw error
    }
  }

  static async open (params: ScanParams): Promise<ScanTaskState> {
    const pipeline = await CompiledPipeline.compile(params.steps, params.source.type === 'range', params.limits)
    return ScanTaskState.#withReader(params, () => pipeline)
  }

  /** Without plug-in processors a state can be opened synchronously. */
  static openSync (params: ScanParams): ScanTaskState {
    return ScanTaskState.#withReader(params, (integerRecords) => CompiledPipeline.compileSync(params.steps, integerRecords, params.limits))
  }

  /** The result of one raw record: null when dropped; a CEL value when aggregating, else JSON. */
  process (raw: unknown, offset: number): unknown {
    const aggregating = this.aggregation !== undefined
    const projection = this.#projection
    if (projection !== undefined) {
      const partial = this.reader.decodeFields?.(raw, projection.fields)
      if (partial !== undefined) {
        const kept = this.pipeline.run(partial, offset, true, 0, projection.steps)
        if (kept === DROPPED) return null
        if (!projection.whole) return kept
        const result = this.pipeline.run(this.reader.decode(raw), offset, aggregating, projection.steps)
        return result === DROPPED ? null : result
      }
    }
    const result = this.pipeline.run(this.reader.decode(raw), offset, aggregating)
    return result === DROPPED ? null : result
  }

  close (): void {
    this.reader.close()
  }
}
