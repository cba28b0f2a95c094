import { DEFER_MS, type QueueJobState, type ScanJobProcessor, type ScanQueue } from './scan-queue.js'

export interface MemoryScanQueueOptions {
  /** Jobs run at the same time. Default: 1. */
  concurrency?: number
}

/** The embedded queue: FIFO in this process. */
export class MemoryScanQueue implements ScanQueue {
  readonly #concurrency: number
  readonly #waiting: string[] = []
  readonly #active = new Map<string, Promise<void>>()
  readonly #shutdown = new AbortController()
  #processor: ScanJobProcessor | undefined
  #closing = false
  #completed = 0
  #failed = 0

  constructor (options: MemoryScanQueueOptions = {}) {
    this.#concurrency = options.concurrency ?? 1
  }

  async add (id: string): Promise<void> {
    if (this.#active.has(id) || this.#waiting.includes(id)) return
    this.#waiting.push(id)
    this.#drain()
  }

  async remove (id: string): Promise<void> {
    const index = this.#waiting.indexOf(id)
    if (index !== -1) this.#waiting.splice(index, 1)
  }

  async counts (): Promise<Record<QueueJobState, number>> {
    return { waiting: this.#waiting.length, active: this.#active.size, delayed: 0, completed: this.#completed, failed: this.#failed }
  }

  process (processor: ScanJobProcessor): void {
    this.#processor = processor
    this.#drain()
  }

  async close (graceMs = 0): Promise<void> {
    this.#closing = true
    const running = Promise.allSettled(this.#active.values())
    let timer: NodeJS.Timeout | undefined
    const graceOver = new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs) })
    await Promise.race([running, graceOver])
    clearTimeout(timer)
    this.#shutdown.abort(new Error('The instance is shutting down'))
    await running
  }

  async ping (): Promise<void> {}

  onJobLost (_listener: (id: string) => void): void {}

  #defer (id: string): void {
    const timer = setTimeout(() => {
      if (this.#closing) return
      this.#waiting.push(id)
      this.#drain()
    }, DEFER_MS)
    timer.unref()
  }

  #drain (): void {
    const processor = this.#processor
    if (processor === undefined) return
    while (!this.#closing && this.#active.size < this.#concurrency && this.#waiting.length > 0) {
      const id = this.#waiting.shift()!
      const run = processor(id, this.#shutdown.signal).then(
        (outcome) => {
          if (outcome === 'deferred') this.#defer(id)
          else if (outcome === 'failed') this.#failed++
          else this.#completed++
        },
        () => { this.#failed++ }
      ).finally(() => {
        this.#active.delete(id)
        this.#drain()
      })
      this.#active.set(id, run)
    }
  }
}
