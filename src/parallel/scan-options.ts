import { ConfigError, InvalidScanOptionError, InvalidTotalError } from './errors.js'
import type { ParallelConfig } from './parallel-config.js'
import { taskModuleUrl } from './task-module-loader.js'
import type { ScanOptions, ScanTask, StreamOptions } from './types.js'

const MAX_TOTAL = 2 ** 31 - 1

/** A scan whose arguments were checked, waiting for its turn on the pool. */
export interface PreparedScan {
  total: number
  moduleUrl: string
  params: unknown
  config: ParallelConfig
  options: ScanOptions
  onBatch?: StreamOptions['onBatch']
}

/** Checks the arguments of a scan; every bad one throws a catalogue error naming it. */
export function prepareScan (poolConfig: ParallelConfig, total: number, task: ScanTask, options: ScanOptions): PreparedScan {
  if (typeof total !== 'number' || !Number.isInteger(total) || total < 0 || total > MAX_TOTAL) {
    throw new InvalidTotalError(typeof total === 'number' ? String(total) : typeof total)
  }
  if (task === null || typeof task !== 'object') throw new InvalidScanOptionError('task must be { module, params }')
  if (options === null || typeof options !== 'object') throw new InvalidScanOptionError('options must be an object')
  const config = poolConfig.with(options.config)
  if (config.max_workers > poolConfig.max_workers) {
    throw new ConfigError(`max_workers = ${config.max_workers} is more than the pool's max_workers = ${poolConfig.max_workers}`)
  }
  if (options.ordered !== undefined && typeof options.ordered !== 'boolean') throw new InvalidScanOptionError(`ordered must be a boolean, got ${String(options.ordered)}`)
  if (options.on_error !== undefined && options.on_error !== 'fail' && options.on_error !== 'skip') {
    throw new InvalidScanOptionError(`on_error must be 'fail' or 'skip', got ${String(options.on_error)}`)
  }
  const samples = options.max_error_samples
  if (samples !== undefined && (!Number.isInteger(samples) || samples < 0)) {
    throw new InvalidScanOptionError(`max_error_samples must be a non-negative integer, got ${String(samples)}`)
  }
  for (const key of ['progress_interval_ms', 'stop_grace_ms', 'module_load_timeout_ms'] as const) {
    const ms = options[key]
    if (ms !== undefined && (typeof ms !== 'number' || !(ms >= 1) || !Number.isFinite(ms))) {
      throw new InvalidScanOptionError(`${key} must be a number >= 1, got ${String(ms)}`)
    }
  }
  for (const key of ['ordered_window_records', 'ordered_window_bytes', 'unordered_window_bytes'] as const) {
    const value = options[key]
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1 || (key === 'ordered_window_records' && value > MAX_TOTAL))) {
      throw new InvalidScanOptionError(`${key} must be an integer in [1, ${key === 'ordered_window_records' ? MAX_TOTAL : Number.MAX_SAFE_INTEGER}], got ${String(value)}`)
    }
  }
  const limit = options.record_time_limit_ms
  if (limit !== undefined && (typeof limit !== 'number' || !(limit >= 0) || !Number.isFinite(limit))) {
    throw new InvalidScanOptionError(`record_time_limit_ms must be a number >= 0 (0 is no limit), got ${String(limit)}`)
  }
  const group = options.share_group
  if (group !== undefined && (typeof group !== 'string' || group.length === 0)) {
    throw new InvalidScanOptionError(`share_group must be a non-empty string, got ${typeof group === 'string' ? 'an empty one' : String(group)}`)
  }
  if (options.metrics !== undefined && typeof options.metrics !== 'function') throw new InvalidScanOptionError('metrics must be a function')
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new InvalidScanOptionError('signal must be an AbortSignal')
  return { total, moduleUrl: taskModuleUrl(task.module), params: task.params, config, options }
}
