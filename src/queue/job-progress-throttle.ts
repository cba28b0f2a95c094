/** Shortest time between two job progress writes (ms). */
export const DEFAULT_JOB_PROGRESS_INTERVAL_MS = 1000

export interface JobProgressThrottleOptions {
  /**
   * Shortest time between two writes (ms).
   * @defaultValue 1000
   */
  intervalMs?: number
  /**
   * Called with each write error; the next value is written as if the write had succeeded.
   * @defaultValue drops it
   */
  onError?: (error: unknown) => void
}

/**
 * Passes the latest of many progress values to `write` at most once per interval, the last one
 * included (flush). Write errors go to `onError`: progress for the dashboard must never fail a scan.
 */
export class JobProgressThrottle<T> {
  readonly #write: (value: T) => Promise<unknown>
  readonly #intervalMs: number
  readonly #onError: (error: unknown) => void
  #lastAt = -Infinity
  #pending: { value: T } | undefined
  #timer: NodeJS.Timeout | undefined
  #writing: Promise<void> = Promise.resolve()

  constructor (write: (value: T) => Promise<unknown>, options: JobProgressThrottleOptions = {}) {
    this.#write = write
    this.#intervalMs = options.intervalMs ?? DEFAULT_JOB_PROGRESS_INTERVAL_MS
    this.#onError = options.onError ?? (() => {})
  }

  readonly report = (value: T): void => {
    this.#pending = { value }
    if (this.#timer !== undefined) return
    const wait = this.#lastAt + this.#intervalMs - performance.now()
    if (wait <= 0) this.#send()
    else this.#timer = setTimeout(() => this.#send(), wait)
  }

  /** Writes the value still waiting, if any, and waits for the writes under way. */
  async flush (): Promise<void> {
    if (this.#pending !== undefined) this.#send()
    await this.#writing
  }

  #send (): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    const pending = this.#pending
    if (pending === undefined) return
    this.#pending = undefined
    this.#lastAt = performance.now()
    this.#writing = this.#writing.then(async () => { await this.#write(pending.value) }).catch(this.#onError)
  }
}
