/** Timers that do not keep the process alive, cleared all at once when their owner closes. */
export class UnrefTimers {
  readonly #timers = new Set<NodeJS.Timeout>()

  /** Runs `fn` in `ms` (at most what setTimeout takes). */
  later (ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => { this.#timers.delete(timer); fn() }, Math.max(0, Math.min(ms, 2 ** 31 - 1)))
    timer.unref()
    this.#timers.add(timer)
    return timer
  }

  clear (timer: NodeJS.Timeout): void {
    clearTimeout(timer)
    this.#timers.delete(timer)
  }

  clearAll (): void {
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
  }
}
