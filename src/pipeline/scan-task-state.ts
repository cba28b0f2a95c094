import { openSourceReader } from '../sources/open-source-reader.js'
import type { SourceReader } from '../sources/source-reader.js'
import { Aggregation } from './aggregation.js'
import { CompiledPipeline } from './compiled-pipeline.js'
import type { ScanParams } from './scan-params.js'

/** A scan's reader, compiled steps and aggregation inside one thread. */
export class ScanTaskState {
  readonly reader: SourceReader
  readonly pipeline: CompiledPipeline
  readonly aggregation?: Aggregation

  private constructor (reader: SourceReader, pipeline: CompiledPipeline, aggregation?: Aggregation) {
    this.reader = reader
    this.pipeline = pipeline
    this.aggregation = aggregation
  }

  static #withReader (params: ScanParams, build: (integerRecords: boolean) => CompiledPipeline): ScanTaskState {
    const aggregation = params.aggregate === undefined ? undefined : new Aggregation(params.aggregate)
    const reader = openSourceReader(params.source)
    try {
      return new ScanTaskState(reader, build(reader.integerRecords), aggregation)
    } catch (error) {
      reader.close()
      throw error
    }
  }

  static async open (params: ScanParams): Promise<ScanTaskState> {
    const integerRecords = params.source.type === 'range'
    const pipeline = await CompiledPipeline.compile(params.steps, integerRecords)
    return ScanTaskState.#withReader(params, () => pipeline)
  }

  /** Without plug-in processors a state can be opened synchronously. */
  static openSync (params: ScanParams): ScanTaskState {
    return ScanTaskState.#withReader(params, (integerRecords) => CompiledPipeline.compileSync(params.steps, integerRecords))
  }

  close (): void {
    this.reader.close()
  }
}
