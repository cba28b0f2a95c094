import { FlowProducer, Job, Queue, type Worker, UnrecoverableError, WaitingChildrenError } from 'bullmq'
import type { Redis } from 'ioredis'
import { type PartitionJob, type ScanJobOutcome, type PartitionJobProcessor, type QueueJobState, type ScanJobProcessor, type ScanJobProgress, type ScanQueue } from './scan-queue.js'
import type { ScanJobInfo } from './scan-job-summary.js'
import { DEFAULT_JOB_PROGRESS_INTERVAL_MS, JobProgressThrottle } from './job-progress-throttle.js'
import { SERVICE_DEFAULTS } from '../config/service-config.js'
import { SILENT_LOG } from '../service-log.js'
import type { BullmqScanQueueOptions } from './bullmq-scan-queue-options.js'
import { bullmqJobFlow } from './bullmq-job-flow.js'
import { FinishedJobSweep, finishedJobAge } from './finished-job-retention.js'
import { partitionLockTimings } from './partition-lock-timings.js'
import { requeueIfAsked, type StandAside } from './bullmq-requeue.js'
import { SlotWorker } from './bullmq-slot-worker.js'

export type { BullmqScanQueueOptions } from './bullmq-scan-queue-options.js'

/** Scans queued in BullMQ: every instance on the same Redis and prefix shares the work. */
export class BullmqScanQueue implements ScanQueue {
  readonly #options: Required<Omit<BullmqScanQueueOptions, 'workerConnection' | 'sharedConnection' | 'progressIntervalMs'>>
  readonly #progressIntervalMs: number
  readonly #sharedConnection: boolean
  readonly #queue: Queue
  readonly #partitionQueue: Queue
  readonly #flows: FlowProducer
  readonly #workerConnection: Redis
  #partitionConnection: Redis | undefined
  readonly #shutdown = new AbortController()
  /** Aborted when close() begins: slots standing aside after a deferral stop waiting. */
  readonly #stopping = new AbortController()
  #worker: Worker | undefined
  #partitionWorker: Worker | undefined
  readonly #sweep: FinishedJobSweep
  readonly #lostListeners: Array<(id: string) => void> = []

  constructor (options: BullmqScanQueueOptions) {
    this.#options = {
      connection: options.connection,
      prefix: options.prefix ?? SERVICE_DEFAULTS.keyPrefix,
      name: options.name ?? 'scans',
      concurrency: options.concurrency ?? SERVICE_DEFAULTS.concurrency,
      partitionConcurrency: options.partitionConcurrency ?? options.concurrency ?? SERVICE_DEFAULTS.concurrency,
      lockDurationMs: options.lockDurationMs ?? SERVICE_DEFAULTS.lockDurationMs,
      retentionMs: options.retentionMs ?? SERVICE_DEFAULTS.retentionMs,
      partitionsName: options.partitionsName ?? 'scan-partitions',
      partitionLockMs: options.partitionLockMs ?? SERVICE_DEFAULTS.partitionLockMs,
      partitionMaxStalled: options.partitionMaxStalled ?? 3,
      instance: options.instance ?? '',
      log: options.log ?? SILENT_LOG
    }
    this.#progressIntervalMs = options.progressIntervalMs ?? DEFAULT_JOB_PROGRESS_INTERVAL_MS
    this.#sharedConnection = options.sharedConnection ?? false
    this.#workerConnection = options.workerConnection ?? options.connection.duplicate({ maxRetriesPerRequest: null })
    const age = finishedJobAge(this.#options.retentionMs)
    this.#queue = new Queue(this.#options.name, {
      connection: options.connection,
      prefix: this.#options.prefix,
      defaultJobOptions: { attempts: 1, removeOnComplete: { age }, removeOnFail: { age } }
    })
    this.#partitionQueue = new Queue(this.#options.partitionsName, { connection: options.connection, prefix: this.#options.prefix })
    this.#flows = new FlowProducer({ connection: options.connection, prefix: this.#options.prefix })
    this.#sweep = new FinishedJobSweep([this.#queue, this.#partitionQueue], this.#options.retentionMs, this.#options.log)
    // Connection errors also reach the callers of each command (and /readyz); without a listener BullMQ prints them.
    const connectionError = (error: Error): void => { this.#options.log.debug({ err: error }, 'queue connection error') }
    this.#queue.on('error', connectionError)
    this.#partitionQueue.on('error', connectionError)
    this.#flows.on('error', connectionError)
  }

  /** The BullMQ queue itself, for the queue dashboard. */
  get queue (): Queue {
    return this.#queue
  }

  /** The queues of scan jobs and of partition jobs, for the queue dashboard. */
  get queues (): Queue[] {
    return [this.#queue, this.#partitionQueue]
  }

  async add (id: string, info?: ScanJobInfo): Promise<void> {
    await this.#queue.add(info?.name ?? 'scan', info === undefined ? { id } : { id, summary: info.summary }, { jobId: id })
  }

  async remove (id: string): Promise<void> {
    try {
      await this.#queue.remove(id)
    } catch {
      // a job that is locked by a worker cannot be removed; its consumer sees the cancel instead
    }
  }

  async dropPartitions (id: string): Promise<void> {
    const job = await Job.fromId(this.#queue, id)
    await job?.removeUnprocessedChildren()
  }

  async counts (): Promise<Record<QueueJobState, number>> {
    const counts = await this.#queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed')
    return { waiting: counts.waiting ?? 0, active: counts.active ?? 0, delayed: counts.delayed ?? 0, completed: counts.completed ?? 0, failed: counts.failed ?? 0 }
  }

  readonly #progressLost = (id: string) => (error: unknown): void => { this.#options.log.debug({ err: error, scan: id }, 'job progress not written; the next write carries it') }

  /** BullMQ reports here what goes wrong around the jobs (lost locks, Redis errors in its loop); the jobs' own errors end their scans. */
  readonly #workerError = (error: Error): void => { this.#options.log.warn({ err: error }, 'queue worker error') }

  process (processor: ScanJobProcessor, partitions?: PartitionJobProcessor): void {
    this.#sweep.start()
    const worker = this.#worker = new SlotWorker(this.#options.name, async (job: Job, token?: string) => {
      const progress = new JobProgressThrottle<ScanJobProgress>(async (value) => await job.updateProgress(value), { intervalMs: this.#progressIntervalMs, onError: this.#progressLost(job.id!) })
      const outcome = await processor(job.id!, this.#shutdown.signal, bullmqJobFlow(job, token!, { flows: this.#flows, queueName: this.#options.partitionsName, retentionMs: this.#options.retentionMs }), progress.report).finally(async () => await progress.flush())
      if (outcome === 'waiting') throw new WaitingChildrenError()
      await requeueIfAsked(job, token, outcome, this.#standAside(outcome, this.#queue, worker, job.id!))
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
    this.#worker.on('error', this.#workerError)
    this.#worker.on('stalled', (id: string) => {
      this.#queue.getJobState(id).then((state) => {
        if (state === 'failed') for (const listener of this.#lostListeners) listener(id)
      }, (error: unknown) => { this.#options.log.warn({ err: error, scan: id }, 'could not read the state of a stalled scan job: if the queue gave up on it, its scan is not marked failed') })
    })
    if (partitions !== undefined) this.#processPartitions(partitions)
  }

  #processPartitions (processor: PartitionJobProcessor): void {
    this.#partitionConnection = this.#workerConnection.duplicate()
    const worker = this.#partitionWorker = new SlotWorker<PartitionJob>(this.#options.partitionsName, async (job: Job<PartitionJob>, token?: string) => {
      const outcome = await processor(job.data, this.#shutdown.signal, async (fraction) => {
        await job.updateProgress(Math.round(fraction * 1000) / 10)
      })
      await requeueIfAsked(job, token, outcome, this.#standAside(outcome, this.#partitionQueue, worker, job.id!))
      return outcome
    }, {
      connection: this.#partitionConnection,
      prefix: this.#options.prefix,
      concurrency: this.#options.partitionConcurrency,
      ...partitionLockTimings(this.#options.partitionLockMs),
      maxStalledCount: this.#options.partitionMaxStalled,
      ...(this.#options.instance === '' ? {} : { name: this.#options.instance })
    })
    this.#partitionWorker.on('error', this.#workerError)
    this.#partitionWorker.on('failed', (job: Job<PartitionJob> | undefined) => {
      if (job === undefined) return
      this.#partitionQueue.getJobState(job.id!).then((state) => {
        if (state === 'failed') for (const listener of this.#lostListeners) listener(job.data.id)
      }, (error: unknown) => { this.#options.log.warn({ err: error, scan: job.data.id }, 'could not read the state of a failed partition job: if the queue gave up on it, its scan is not marked failed') })
    })
  }

  #standAside (outcome: ScanJobOutcome, queue: Queue, worker: Pick<SlotWorker, 'overtaken' | 'unlocked'>, id: string): StandAside | undefined {
    if (outcome !== 'deferred') return undefined
    return {
      othersWaiting: async () => await queue.getWaitingCount() > 0,
      stopping: AbortSignal.any([this.#stopping.signal, worker.overtaken(id)]),
      unlocked: () => { worker.unlocked(id) }
    }
  }

  async close (graceMs = 0): Promise<void> {
    this.#stopping.abort()
    this.#sweep.stop()
    const workers = [this.#worker, this.#partitionWorker].filter((w) => w !== undefined)
    if (workers.length > 0) {
      const closing = Promise.all(workers.map(async (w) => await w.close()))
      let timer: NodeJS.Timeout | undefined
      const graceOver = new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs) })
      await Promise.race([closing, graceOver])
      clearTimeout(timer)
      this.#shutdown.abort(new Error('The instance is shutting down'))
      await closing
    }
    await Promise.all([this.#queue.close(), this.#partitionQueue.close(), this.#flows.close()])
    await Promise.allSettled([this.#workerConnection.quit(), this.#partitionConnection?.quit(),
      this.#sharedConnection ? undefined : this.#options.connection.quit()])
  }

  onJobLost (listener: (id: string) => void): void {
    this.#lostListeners.push(listener)
  }

  async ping (): Promise<void> {
    await this.#options.connection.ping()
  }
}
