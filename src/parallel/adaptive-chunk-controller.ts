import type { ParallelConfigOptions } from './types.js'
import { PARALLEL_DEFAULTS } from './parallel-config.js'

/** The chunk keys of ParallelConfig, with their defaults, and the clock. */
export interface AdaptiveChunkControllerOptions extends Pick<ParallelConfigOptions,
'initial_chunk_size' | 'min_chunk_size' | 'max_chunk_size' | 'target_ms_low' | 'target_ms_high' | 'chunk_ema_alpha'> {
  /**
   * Clock in milliseconds.
   * @defaultValue performance.now
   */
  now?: () => number
}

/** Largest factor by which one observation may grow the chunk size. */
const MAX_GROWTH = 2

/** One clock for every controller of a thread: the per-chunk calls that reach it keep one call target from scan to scan. */
const clock = performance.now.bind(performance)

/**
 * Chunk sizing for one worker. It keeps an exponential moving average of the
 * service time per record (fetch + process of a chunk, divided by its
 * records), so chunks of different sizes inform it equally. While the
 * predicted time of a chunk of the current size (size × ema) lies within
 * [target_ms_low, target_ms_high] the size stays; outside, the size is set
 * to hit the geometric middle of the band, growing at most 2x per chunk and
 * shrinking at once, always within [min_chunk_size, max_chunk_size].
 */
export class AdaptiveChunkController {
  readonly min: number
  readonly max: number
  readonly low: number
  readonly high: number
  readonly alpha: number
  #size: number
  #emaPerRecord = -1
  #started = 0
  readonly #now: () => number
  readonly #target: number

  constructor (options: AdaptiveChunkControllerOptions = {}) {
    this.min = options.min_chunk_size ?? PARALLEL_DEFAULTS.min_chunk_size
    this.max = options.max_chunk_size ?? PARALLEL_DEFAULTS.max_chunk_size
    this.low = options.target_ms_low ?? PARALLEL_DEFAULTS.target_ms_low
    this.high = options.target_ms_high ?? PARALLEL_DEFAULTS.target_ms_high
    this.alpha = options.chunk_ema_alpha ?? PARALLEL_DEFAULTS.chunk_ema_alpha
    this.#now = options.now ?? clock
    this.#size = clamp(options.initial_chunk_size ?? PARALLEL_DEFAULTS.initial_chunk_size, this.min, this.max)
    this.#target = Math.sqrt(this.low * this.high)
  }

  /** Records in the next chunk. */
  get size (): number {
    return this.#size
  }

  /** EMA of milliseconds per record; -1 before the first observation. */
  get emaMsPerRecord (): number {
    return this.#emaPerRecord
  }

  /**
   * Forgets what it learned and starts again from min_chunk_size, for a range
   * whose cost may differ from the last one (a stolen range): the first chunk
   * there cannot be a long one sized for cheaper records.
   */
  restart (): void {
    this.#emaPerRecord = -1
    this.#size = this.min
  }

  /** Marks the start of a chunk on the controller's clock. */
  start (): void {
    this.#started = this.#now()
  }

  /** Ends the chunk started last, of `records` records; returns its service time in ms. */
  finish (records: number): number {
    const ms = this.#now() - this.#started
    this.observe(records, ms)
    return ms
  }

  /** Feeds one chunk of `records` records that took `ms` milliseconds. */
  observe (records: number, ms: number): void {
    if (records <= 0) return
    const perRecord = Math.max(ms, 0) / records
    this.#emaPerRecord = this.#emaPerRecord < 0 ? perRecord : this.alpha * perRecord + (1 - this.alpha) * this.#emaPerRecord
    const predicted = this.#size * this.#emaPerRecord
    if (predicted >= this.low && predicted <= this.high) return
    const wanted = this.#emaPerRecord > 0 ? this.#target / this.#emaPerRecord : this.max
    const next = predicted < this.low ? Math.min(wanted, this.#size * MAX_GROWTH) : wanted
    this.#size = clamp(Math.round(next), this.min, this.max)
  }
}

function clamp (value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value
}
