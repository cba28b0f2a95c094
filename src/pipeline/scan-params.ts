import type { AggregateSpec } from '../../schemas/scan-request.js'
import type { SourceParams } from '../sources/source-params.js'
import type { StepParams } from './step-params.js'
import type { ValueLimits } from './value-limits.js'

/** What planScan sends to the task module in every worker thread (structured-cloneable). */
export interface ScanParams {
  /** Unique per planned scan: the key of the per-thread state. */
  id: string
  source: SourceParams
  steps: StepParams[]
  aggregate?: AggregateSpec
  /**
   * Offset of the engine's record 0 in the source: a partition runs records [base, base + total).
   * @defaultValue 0
   */
  base?: number
  /** The aggregate task returns its merged partial state as its one row instead of the final rows (a partition's part). */
  partial?: boolean
  /**
   * Byte bounds of values and results.
   * @defaultValue DEFAULT_VALUE_LIMITS
   */
  limits?: ValueLimits
}
