import type { AggregateSpec } from '../../schemas/scan-request.js'
import { openSourceReader } from '../sources/open-source-reader.js'
import type { RawLineFilter } from '../sources/raw-line-filter.js'
import { isRejected, type SourceReader } from '../sources/source-reader.js'
import { Aggregation } from './aggregation.js'
import { CompiledPipeline, isDropped } from './compiled-pipeline.js'
import { impliedRawPredicate } from './implied-raw-predicate.js'
import { recordFields } from './record-fields.js'
import type { ScanParams } from './scan-params.js'
import { recordMarks } from '../parallel/record-mark.js'

/**
 * Above this share of projected records kept, a chunk of a pipeline that needs whole records is
 * decoded without the projection: a record kept is decoded twice, its fields and then whole.
 */
const MOSTLY_KEPT = 0.5
/** Chunks decoded whole before the projection is tried again. */
const CHUNKS_WHOLE = 7

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

function planRawFilter (params: ScanParams, reader: SourceReader, pipeline: CompiledPipeline): RawLineFilter | undefined {
  if (reader.rawFilter === undefined) return undefined
  const predicate = impliedRawPredicate(params.steps.slice(0, pipeline.leadingFilters).map((step) => (step as { expr: string }).expr))
  return predicate === undefined ? undefined : reader.rawFilter(predicate)
}

/** In place of the result of a record that failed: the error that process is to throw for it. */
export class RecordFailure {
  constructor (readonly error: unknown) {}
}

/** What the batch loop keeps between a failed record and the next. */
interface Batch {
  state: ScanTaskState
  items: unknown[]
  offset: number
  at: number
}

/** Runs records [from, count) of the batch in place; returns count, or the index of a record that threw. */
function runBatch (batch: Batch, from: number, count: number): number {
  try {
    return runUnguarded(batch, from, count)
  } catch (error) {
    batch.items[batch.at] = new RecordFailure(error instanceof RangeError && error.message.includes('call stack') ? new Error('the record is nested too deeply to be processed', { cause: error }) : error)
    return batch.at + 1
  }
}

/** The loop without a try block, which V8 would run several times slower. */
function runUnguarded (batch: Batch, from: number, count: number): number {
  const { state, items, offset } = batch
  // One store per record: nothing the records run moves the marks (the runner does, between chunks).
  const { marks, index, base } = recordMarks
  for (let i = from; i < count; i++) {
    batch.at = i
    marks[index] = base + i
    const raw = items[i]
    items[i] = isRejected(raw) ? null : state.process(raw, offset + i)
  }
  return count
}

/** A scan's reader, compiled steps and aggregation inside one thread. */
export class ScanTaskState {
  readonly reader: SourceReader
  readonly pipeline: CompiledPipeline
  readonly aggregation?: Aggregation
  readonly #projection?: Projection
  readonly #rawFilter?: RawLineFilter
  /** Whether the chunk being run decodes the projection first. */
  #projecting = false
  #wholeChunks = 0
  #projected = 0
  #kept = 0

  private constructor (params: ScanParams, reader: SourceReader, pipeline: CompiledPipeline) {
    this.reader = reader
    this.pipeline = pipeline
    if (params.aggregate !== undefined) this.aggregation = new Aggregation(params.aggregate, params.limits)
    this.#projection = planProjection(params, reader, pipeline)
    this.#rawFilter = planRawFilter(params, reader, pipeline)
  }

  /**
   * The results of records [offset, offset + count) in one pass: the result, null when dropped,
   * or a RecordFailure. Records that the raw filter rules out are never decoded.
   */
  processChunk (offset: number, count: number): unknown[] {
    const reader = this.reader
    const projecting = this.#projecting = this.#projection !== undefined && this.#wholeChunks === 0
    if (this.#wholeChunks > 0) this.#wholeChunks--
    const items = reader.readFiltered === undefined ? reader.read(offset, count) : reader.readFiltered(offset, count, this.#rawFilter, projecting)
    const batch: Batch = { state: this, items, offset, at: 0 }
    let i = 0
    while (i < count) i = runBatch(batch, i, count)
    if (projecting) this.#weighProjection()
    return items
  }

  /** After a projected chunk: leaves the projection off for a while when it kept most records that then had to be decoded whole. */
  #weighProjection (): void {
    if ((this.#projection as Projection).whole && this.#projected > 0 && this.#kept > this.#projected * MOSTLY_KEPT) this.#wholeChunks = CHUNKS_WHOLE
    this.#projected = 0
    this.#kept = 0
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
    if (projection !== undefined && this.#projecting) {
      const partial = this.reader.decodeFields?.(raw, projection.fields)
      if (partial !== undefined) {
        this.#projected++
        const kept = this.pipeline.run(partial, offset, true, 0, projection.steps)
        if (isDropped(kept)) return null
        this.#kept++
        if (!projection.whole) return kept
        const result = this.pipeline.run(this.reader.decode(raw), offset, aggregating, projection.steps)
        return isDropped(result) ? null : result
      }
    }
    const result = this.pipeline.run(this.reader.decode(raw), offset, aggregating)
    return isDropped(result) ? null : result
  }

  close (): void {
    this.reader.close()
  }
}
