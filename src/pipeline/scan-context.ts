import type { ValueLimits } from './value-limits.js'

export interface ScanContext {
  /** Root of file sources; a file source's path is relative to it. */
  dataDir: string
  /**
   * Directory of plug-in processor modules.
   * @defaultValue none (built-in processors only)
   */
  processorsDir?: string
  /**
   * Byte bounds of values and results inside the worker threads.
   * @defaultValue DEFAULT_VALUE_LIMITS
   */
  valueLimits?: ValueLimits
}
