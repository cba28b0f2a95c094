import { TooManyStatusWaitersError } from '../errors.js'

export interface StatusWaitersOptions {
  /** Whether a scan is still queued or running (false: finished, or gone). Required. */
  active: (id: string) => Promise<boolean>
  /**
   * Waits at once; one more is refused with TooManyStatusWaitersError. 0 ends every wait at once.
   * @defaultValue 1000
   */
  maxWaiters?: number
  /**
   * Period of the `active` reads that see a scan end where `changed` is not called (on another instance) (ms).
   * @defaultValue 500
   */
  pollIntervalMs?: number
}

/**
 * Status requests waiting for their scan to end. A wait ends when a read of the store finds the scan
 * finished or gone (after `changed(id)`, and periodically for scans that end on other instances), when its time is up, when its signal
 * aborts (the client left) or when the waiters close; nothing of it stays behind.
 */
export class StatusWaiters {
  readonly #active: (id: string) => Promise<boolean>
  readonly #maxWaiters: number
  readonly #pollIntervalMs: number
  /** The longest delay a Node timer takes; a longer one would fire at once. */
  static readonly MAX_TIMER_MS = 2 ** 31 - 1
  readonly #byScan = new Map<string, Set<() => void>>()
  #size = 0
  #ticker: NodeJS.Timeout | undefined
  #reading = false
  #closed = false

  constructor (options: StatusWaitersOptions) {
    this.#active = options.active
    this.#maxWaiters = options.maxWaiters ?? 1000
    this.#pollIntervalMs = Math.min(options.pollIntervalMs ?? 500, StatusWaiters.MAX_TIMER_MS)
  }

  /** Waits in progress. */
  get size (): number { return this.#size }

  /** Resolves when scan `id` may have ended, or after `ms`; rejects with TooManyStatusWaitersError past `maxWaiters`. */
  async wait (id: string, ms: number, signal: AbortSignal): Promise<void> {
    if (this.#closed || this.#maxWaiters === 0 || !(ms > 0) || signal.aborted) return
    if (this.#size >= this.#maxWaiters) throw new TooManyStatusWaitersError(this.#maxWaiters)
    await new Promise<void>((resolve) => {
      let waiters = this.#byScan.get(id)
      if (waiters === undefined) this.#byScan.set(id, waiters = new Set())
      const scanWaiters = waiters
      const end = (): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', end)
        if (!scanWaiters.delete(end)) return
        if (scanWaiters.size === 0 && this.#byScan.get(id) === scanWaiters) this.#byScan.delete(id)
        if (--this.#size === 0) this.#stopTicker()
        resolve()
      }
      const timer = setTimeout(end, Math.min(ms, StatusWaiters.MAX_TIMER_MS))
      signal.addEventListener('abort', end, { once: true })
      scanWaiters.add(end)
      this.#size++
      this.#startTicker()
      // The scan may have ended between the caller's read and this wait.
      this.#check(id)
    })
  }

  /** Scan `id` may have ended or gone: its waits end if a read of the store says so. */
  changed (id: string): void {
    if (this.#byScan.has(id)) this.#check(id)
  }

  #end (id: string): void {
    for (const end of [...this.#byScan.get(id) ?? []]) end()
  }

  /** Ends every wait, and every later one at once. */
  close (): void {
    this.#closed = true
    for (const id of [...this.#byScan.keys()]) this.#end(id)
  }

  #check (id: string): void {
    this.#active(id).then((active) => { if (!active) this.#end(id) }, () => {})
  }

  #startTicker (): void {
    if (this.#ticker !== undefined) return
    this.#ticker = setInterval(() => { void this.#poll() }, this.#pollIntervalMs)
    this.#ticker.unref()
  }

  #stopTicker (): void {
    clearInterval(this.#ticker)
    this.#ticker = undefined
  }

  /** One read per waited scan; a slow store skips ticks instead of piling reads up. */
  async #poll (): Promise<void> {
    if (this.#reading) return
    this.#reading = true
    try {
      await Promise.all([...this.#byScan.keys()].map(async (id) => {
        if (!await this.#active(id).catch(() => true)) this.#end(id)
      }))
    } finally {
      this.#reading = false
    }
  }
}
