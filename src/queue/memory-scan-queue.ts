import type { ScanJobInfo } from './scan-job-summary.js'
import { DEFER_MS, type PartitionJob, type PartitionJobProcessor, type QueueJobState, type ScanJobFlow, type ScanJobOutcome, type ScanJobProcessor, type ScanQueue } from './scan-queue.js'

export interface MemoryScanQueueOptions {
  /**
   * Scan jobs run at the same time.
   * @defaultValue 1
   */
  concurrency?: number
  /**
   * Partition jobs run at the same time.
   * @defaultValue `concurrency`
   */
  partitionConcurrency?: number
  /**
   * Scan jobs queued from the start (a state directory's scans that were queued or running), in order.
   * @defaultValue none
   */
  resume?: string[]
  /**
   * Scans whose jobs are reported lost once jobs are taken (see `onJobLost`).
   * @defaultValue none
   */
  lost?: string[]
}

/** The partition jobs of one scan's job: the flow of the embedded queue. */
interface Children {
  pending: Set<number>
  parked: boolean
}

/** The embedded queue: FIFO in this process; a scan's partition jobs hold its job back until they are done, as BullMQ flows do. */
export class MemoryScanQueue implements ScanQueue {
  readonly #concurrency: number
  readonly #partitionConcurrency: number
  readonly #waiting: string[] = []
  readonly #active = new Map<string, Promise<void>>()
  readonly #waitingParts: PartitionJob[] = []
  readonly #activeParts = new Map<string, Promise<void>>()
  readonly #children = new Map<string, Children>()
  readonly #shutdown = new AbortController()
  /** Scan jobs queued again while they were still running (their partitions ended first). */
  readonly #requeue = new Set<string>()
  /** The tenant of each scan job. */
  readonly #tenants = new Map<string, string | undefined>()
  #processor: ScanJobProcessor | undefined
  #partProcessor: PartitionJobProcessor | undefined
  readonly #lost: string[]
  readonly #lostListeners: Array<(id: string) => void> = []
  #closing = false
  #completed = 0
  #failed = 0

  constructor (options: MemoryScanQueueOptions = {}) {
    this.#concurrency = options.concurrency ?? 1
    this.#partitionConcurrency = options.partitionConcurrency ?? this.#concurrency
    this.#waiting.push(...options.resume ?? [])
    this.#lost = [...options.lost ?? []]
  }

  async add (id: string, info?: ScanJobInfo): Promise<void> {
    if (!this.#tenants.has(id)) this.#tenants.set(id, info?.summary.tenant)
    if (this.#active.has(id)) this.#requeue.add(id)
    if (this.#active.has(id) || this.#waiting.includes(id)) return
    this.#waiting.push(id)
    this.#drain()
  }

  async remove (id: string): Promise<void> {
    const index = this.#waiting.indexOf(id)
    if (index !== -1) this.#waiting.splice(index, 1)
    if (!this.#active.has(id)) this.#tenants.delete(id)
    await this.dropPartitions(id)
    if (this.#children.get(id)?.pending.size === 0) this.#children.delete(id)
  }

  async dropPartitions (id: string): Promise<void> {
    const children = this.#children.get(id)
    for (let i = this.#waitingParts.length - 1; i >= 0; i--) {
      const job = this.#waitingParts[i]
      if (job.id !== id) continue
      this.#waitingParts.splice(i, 1)
      children?.pending.delete(job.part)
    }
    this.#release(id)
  }

  async counts (): Promise<Record<QueueJobState, number>> {
    return {
      waiting: this.#waiting.length + this.#waitingParts.length,
      active: this.#active.size + this.#activeParts.size,
      delayed: 0,
      completed: this.#completed,
      failed: this.#failed
    }
  }

  process (processor: ScanJobProcessor, partitions?: PartitionJobProcessor): void {
    this.#processor = processor
    this.#partProcessor = partitions
    for (const id of this.#lost.splice(0)) for (const listener of this.#lostListeners) listener(id)
    this.#drain()
  }

  async close (graceMs = 0): Promise<void> {
    this.#closing = true
    const running = Promise.allSettled([...this.#active.values(), ...this.#activeParts.values()])
    let timer: NodeJS.Timeout | undefined
    const graceOver = new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs) })
    await Promise.race([running, graceOver])
    clearTimeout(timer)
    this.#shutdown.abort(new Error('The instance is shutting down'))
    await running
  }

  async ping (): Promise<void> {}

  onJobLost (listener: (id: string) => void): void {
    this.#lostListeners.push(listener)
  }

  #flow (id: string): ScanJobFlow {
    return {
      tenant: this.#tenants.get(id),
      partitioned: this.#children.has(id),
      waitForPartitions: async (partitions) => {
        let children = this.#children.get(id)
        if (children === undefined && partitions !== null) {
          children = { pending: new Set(partitions.map((job) => job.part)), parked: false }
          this.#children.set(id, children)
          this.#waitingParts.push(...partitions)
          this.#drain()
        }
        if (children === undefined || children.pending.size === 0) return false
        children.parked = true
        return true
      }
    }
  }

  /** Queues a parked scan job again once none of its partition jobs is left. */
  #release (id: string): void {
    const children = this.#children.get(id)
    if (children === undefined || children.pending.size > 0 || !children.parked) return
    children.parked = false
    void this.add(id)
  }

  #count (outcome: ScanJobOutcome | undefined): void {
    if (outcome === 'waiting' || outcome === 'handed_back' || outcome === 'deferred') return
    if (outcome === 'failed' || outcome === undefined) this.#failed++
    else this.#completed++
  }

  /** Queues a deferred job again after DEFER_MS, behind the others. */
  #defer (requeue: () => void): void {
    const timer = setTimeout(() => {
      if (this.#closing) return
      requeue()
      this.#drain()
    }, DEFER_MS)
    timer.unref()
  }

  #drain (): void {
    const processor = this.#processor
    if (processor === undefined) return
    while (!this.#closing && this.#active.size < this.#concurrency && this.#waiting.length > 0) {
      const id = this.#waiting.shift()!
      const run = processor(id, this.#shutdown.signal, this.#flow(id)).then(
        (outcome) => {
          if (outcome !== 'waiting') this.#children.delete(id)
          if (outcome !== 'waiting' && outcome !== 'deferred') this.#tenants.delete(id)
          this.#count(outcome)
          if (outcome === 'deferred') this.#defer(() => this.#waiting.push(id))
        },
        () => this.#count(undefined)
      ).finally(() => {
        this.#active.delete(id)
        if (this.#requeue.delete(id)) this.#waiting.push(id)
        this.#drain()
      })
      this.#active.set(id, run)
    }
    const parts = this.#partProcessor
    if (parts === undefined) return
    while (!this.#closing && this.#activeParts.size < this.#partitionConcurrency && this.#waitingParts.length > 0) {
      const job = this.#waitingParts.shift()!
      const key = `${job.id}/${job.part}`
      const run = parts(job, this.#shutdown.signal, async () => {}).then(
        (outcome) => { this.#count(outcome); return outcome },
        () => { this.#count(undefined); return undefined }
      ).then((outcome) => {
        if (outcome === 'deferred') this.#defer(() => this.#waitingParts.push(job))
        if (outcome === 'handed_back' || outcome === 'deferred') return
        this.#children.get(job.id)?.pending.delete(job.part)
        this.#release(job.id)
      }).finally(() => {
        this.#activeParts.delete(key)
        this.#drain()
      })
      this.#activeParts.set(key, run)
    }
  }
}
