import { Queue, Worker, DelayedError, UnrecoverableError, WaitingError, type Job } from 'bullmq'
import type { Redis } from 'ioredis'
import { DEFER_MS, type QueueJobState, type ScanJobProcessor, type ScanQueue } from './scan-queue.js'

export interface BullmqScanQueueOptions {
  /** Connection of the Queue; not closed by BullMQ, closed by close() unless `sharedConnection`. Required. */
  connection: Redis
  /** `connection` belongs to someone else (e.g. the scan store) who closes it. Default: false. */
  sharedConnection?: boolean
  /** Connection of the Worker (needs `maxRetriesPerRequest: null`); closed by close(). Default: a duplicate of `connection`. */
  workerConnection?: Redis
  /** BullMQ key prefix. Default: 'parascan'. */
  prefix?: string
  /** Queue name. Default: 'scans'. */
  name?: string
  /** Jobs run at the same time by this instance. Default: 1. */
  concurrency?: number
  /** Lock of a running job; a dead instance's job is taken over after about this long (ms). Default: 30000. */
  lockDurationMs?: number
  /** How long finished jobs are kept (ms). Default: 24 h. */
  retentionMs?: number
}

/** Scans queued in BullMQ: every instance on the same Redis and prefix shares the work. */
export class BullmqScanQueue implements ScanQueue {
  readonly #options: Required<Omit<BullmqScanQueueOptions, 'workerConnection' | 'sharedConnection'>>
  readonly #sharedConnection: boolean
  readonly #queue: Queue
  readonly #workerConnection: Redis
  readonly #shutdown = new AbortController()
  #worker: Worker | undefined
  readonly #lostListeners: Array<(id: string) => void> = []

  constructor (options: BullmqScanQueueOptions) {
    this.#options = {
      connection: options.connection,
      prefix: options.prefix ?? 'parascan',
      name: options.name ?? 'scans',
      concurrency: options.concurrency ?? 1,
      lockDurationMs: options.lockDurationMs ?? 30_000,
      retentionMs: options.retentionMs ?? 86_400_000
    }
    this.#sharedConnection = options.sharedConnection ?? false
    this.#workerConnection = options.workerConnection ?? options.connection.duplicate({ maxRetriesPerRequest: null })
    const age = Math.max(1, Math.ceil(this.#options.retentionMs / 1000))
    this.#queue = new Queue(this.#options.name, {
      connection: options.connection,
      prefix: this.#options.prefix,
      defaultJobOptions: { attempts: 1, removeOnComplete: { age }, removeOnFail: { age } }
    })
    // Connection errors reach the callers of each command (and /readyz); without a listener BullMQ prints them.
    this.#queue.on('error', () => {})
  }

  /** The BullMQ queue itself, for the queue dashboard. */
  get queue (): Queue {
    return this.#queue
  }

  async add (id: string): Promise<void> {
    await this.#queue.add('scan', { id }, { jobId: id })
  }

  async remove (id: string): Promise<void> {
    try {
      await this.#queue.remove(id)
    } catch {
      // a job that is locked by a worker cannot be removed; its consumer sees the cancel instead
    }
  }

  async counts (): Promise<Record<QueueJobState, number>> {
    const counts = await this.#queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed')
    return { waiting: counts.waiting ?? 0, active: counts.active ?? 0, delayed: counts.delayed ?? 0, completed: counts.completed ?? 0, failed: counts.failed ?? 0 }
  }

  process (processor: ScanJobProcessor): void {
    this.#worker = new Worker(this.#options.name, async (job: Job, token?: string) => {
      const outcome = await processor(job.id!, this.#shutdown.signal)
      if (outcome === 'deferred') {
        await job.moveToDelayed(Date.now() + DEFER_MS, token)
        throw new DelayedError()
      }
      if (outcome === 'handed_back') {
        await job.moveToWait(token)
        throw new WaitingError()
      }
      if (outcome === 'failed') throw new UnrecoverableError('scan failed; see its status document')
      return outcome
    }, {
      connection: this.#workerConnection,
      prefix: this.#options.prefix,
      concurrency: this.#options.concurrency,
      lockDuration: this.#options.lockDurationMs,
      stalledInterval: this.#options.lockDurationMs,
      maxStalledCount: 2
    })
    this.#worker.on('error', () => {})
    this.#worker.on('stalled', (id: string) => {
      this.#queue.getJobState(id).then((state) => {
        if (state === 'failed') for (const listener of this.#lostListeners) listener(id)
      }, () => {})
    })
  }

  async close (graceMs = 0): Promise<void> {
    const worker = this.#worker
    if (worker !== undefined) {
      const closing = worker.close()
      let timer: NodeJS.Timeout | undefined
      const graceOver = new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs) })
      await Promise.race([closing, graceOver])
      clearTimeout(timer)
      this.#shutdown.abort(new Error('The instance is shutting down'))
      await closing
    }
    await this.#queue.close()
    await Promise.allSettled([this.#workerConnection.quit(), this.#sharedConnection ? undefined : this.#options.connection.quit()])
  }

  onJobLost (listener: (id: string) => void): void {
    this.#lostListeners.push(listener)
  }

  async ping (): Promise<void> {
    await this.#options.connection.ping()
  }
}
