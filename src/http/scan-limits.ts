import type { ScanRequest } from '../../schemas/scan-request.js'
import type { FieldError } from '../errors.js'
import { SERVICE_DEFAULTS } from '../config/service-config.js'

export interface ScanLimitsOptions {
  /**
   * Most records of an `inline` source.
   * @defaultValue 100000
   */
  maxInlineRecords?: number
  /**
   * Longest CEL expression, in characters.
   * @defaultValue 4096
   */
  maxExpressionLength?: number
  /**
   * Most steps in a pipeline.
   * @defaultValue 32
   */
  maxPipelineSteps?: number
  /**
   * Ceiling of `max_results`, and the cap of a scan that gives none.
   * @defaultValue 10000000
   */
  maxResults?: number
  /**
   * Longest run of one scan attempt (ms); `timeout_seconds` may only lower it.
   * @defaultValue 1 h
   */
  scanTimeoutMs?: number
  /**
   * Ceiling of `partitions`.
   * @defaultValue 1000
   */
  maxPartitions?: number
}

/** Most metrics of an aggregate: each is an expression run for every record. */
export const MAX_AGGREGATE_METRICS = 256
/** Most typed columns of a CSV source. */
export const MAX_CSV_COLUMNS = 10_000

/** The service's bounds on one scan request, checked before anything is compiled. */
export class ScanLimits {
  readonly maxInlineRecords: number
  readonly maxExpressionLength: number
  readonly maxPipelineSteps: number
  readonly maxResults: number
  readonly scanTimeoutMs: number
  readonly maxPartitions: number

  constructor (options: ScanLimitsOptions = {}) {
    this.maxInlineRecords = options.maxInlineRecords ?? SERVICE_DEFAULTS.maxInlineRecords
    this.maxExpressionLength = options.maxExpressionLength ?? SERVICE_DEFAULTS.maxExpressionLength
    this.maxPipelineSteps = options.maxPipelineSteps ?? SERVICE_DEFAULTS.maxPipelineSteps
    this.maxResults = options.maxResults ?? SERVICE_DEFAULTS.maxResults
    this.scanTimeoutMs = options.scanTimeoutMs ?? SERVICE_DEFAULTS.scanTimeoutMs
    this.maxPartitions = options.maxPartitions ?? SERVICE_DEFAULTS.maxPartitions
  }

  /** One error per bound the request goes over, each naming its field. */
  check (request: ScanRequest): FieldError[] {
    const errors: FieldError[] = []
    if (request.source.type === 'inline' && request.source.records.length > this.maxInlineRecords) {
      errors.push({ path: 'source.records', message: `${request.source.records.length} records; at most ${this.maxInlineRecords} (PARASCAN_MAX_INLINE_RECORDS)` })
    }
    if (request.pipeline.length > this.maxPipelineSteps) {
      errors.push({ path: 'pipeline', message: `${request.pipeline.length} steps; at most ${this.maxPipelineSteps} (PARASCAN_MAX_PIPELINE_STEPS)` })
    }
    const metrics = request.aggregate === undefined ? 0 : Object.keys(request.aggregate.metrics).length
    if (metrics > MAX_AGGREGATE_METRICS) {
      errors.push({ path: 'aggregate.metrics', message: `${metrics} metrics; at most ${MAX_AGGREGATE_METRICS}` })
    }
    const columns = request.source.type === 'file' && request.source.columns !== undefined ? Object.keys(request.source.columns).length : 0
    if (columns > MAX_CSV_COLUMNS) {
      errors.push({ path: 'source.columns', message: `${columns} columns; at most ${MAX_CSV_COLUMNS}` })
    }
    for (const [path, expression] of expressions(request)) {
      if (expression.length > this.maxExpressionLength) {
        errors.push({ path, message: `${expression.length} characters; at most ${this.maxExpressionLength} (PARASCAN_MAX_EXPRESSION_LENGTH)` })
      }
    }
    if (request.max_results !== undefined && request.max_results > this.maxResults) {
      errors.push({ path: 'max_results', message: `at most ${this.maxResults} (PARASCAN_MAX_RESULTS)` })
    }
    if (request.timeout_seconds !== undefined && request.timeout_seconds * 1000 > this.scanTimeoutMs) {
      errors.push({ path: 'timeout_seconds', message: `at most ${this.scanTimeoutMs / 1000} (PARASCAN_SCAN_TIMEOUT)` })
    }
    if (request.partitions !== undefined && request.partitions > this.maxPartitions) {
      errors.push({ path: 'partitions', message: `at most ${this.maxPartitions} (PARASCAN_MAX_PARTITIONS)` })
    }
    return errors
  }

  /** The run-time limit of a scan in ms. */
  timeoutOf (request: ScanRequest): number {
    return request.timeout_seconds === undefined ? this.scanTimeoutMs : Math.min(this.scanTimeoutMs, request.timeout_seconds * 1000)
  }
}

function * expressions (request: ScanRequest): Generator<[string, string]> {
  for (const [i, step] of request.pipeline.entries()) {
    if ('filter' in step) yield [`pipeline[${i}].filter`, step.filter]
    else if ('map' in step) yield [`pipeline[${i}].map`, step.map]
  }
  if (request.aggregate === undefined) return
  if (request.aggregate.group_by !== undefined) yield ['aggregate.group_by', request.aggregate.group_by]
  for (const [name, metric] of Object.entries(request.aggregate.metrics)) {
    if (metric.expr !== undefined) yield [`aggregate.metrics.${name}.expr`, metric.expr]
  }
}
