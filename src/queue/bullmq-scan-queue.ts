import { DelayedError, FlowProducer, Job, Queue, Worker, UnrecoverableError, WaitingChildrenError, WaitingError } from 'bullmq'
import type { Redis } from 'ioredis'
import { DEFER_MS, type PartitionJob, type PartitionJobProcessor, type QueueJobState, type ScanJobFlow, type ScanJobProcessor, type ScanJobProgress, type ScanQueue } from './scan-queue.js'
import type { ScanJobInfo } from './scan-job-summary.js'
import { DEFAULT_JOB_PROGRESS_INTERVAL_MS, JobProgressThrottle } from './job-progress-throttle.js'
import { SERVICE_DEFAULTS } from '../config/service-config.js'
import { SILENT_LOG, type ServiceLog } from '../service-log.js'

export interface BullmqScanQueueOptions {
  /** Connection of the Queue; not closed by BullMQ, closed by close() unless `sharedConnection`. Required. */
  connection: Redis
  /**
   * `connection` belongs to someone else (e.g. the scan store) who closes it.
   * @defaultValue false
   */
  sharedConnection?: boolean
  /**
   * Connection of the Worker (needs `maxRetriesPerRequest: null`); closed by close().
   * @defaultValue a duplicate of `connection`
   */
  workerConnection?: Redis
  /**
   * BullMQ key prefix.
   * @defaultValue 'parascan'
   */
  prefix?: string
  /**
   * Queue name.
   * @defaultValue 'scans'
   */
  name?: string
  /**
   * Jobs run at the same time by this instance.
   * @defaultValue 1
   */
  concurrency?: number
  /**
   * Partition jobs run at the same time by this instance.
   * @defaultValue `concurrency`
   */
  partitionConcurrency?: number
  /**
   * Lock of a running job; a dead instance's job is taken over after about this long (ms).
   * @defaultValue 30000
   */
  lockDurationMs?: number
  /**
   * How long finished jobs are kept (ms).
   * @defaultValue 24 h
   */
  retentionMs?: number
  /**
   * Shortest time between two job progress writes of a running scan (ms).
   * @defaultValue 1000
   */
  progressIntervalMs?: number
  /**
   * Queue of the partition jobs.
   * @defaultValue 'scan-partitions'
   */
  partitionsName?: string
  /**
   * Lock of a running partition job (ms). Its holder renews it every eighth of it and the stalled
   * check runs every quarter of it, so a dead instance's partitions are queued again at most 1.25
   * times this after it died, and an event loop blocked for less than three quarters of it keeps them.
   * @defaultValue 4000
   */
  partitionLockMs?: number
  /**
   * Times a partition may be lost (its instance died) before the scan fails.
   * @defaultValue 3
   */
  partitionMaxStalled?: number
  /**
   * Name of this instance's workers: jobs record it as processedBy.
   * @defaultValue ''
   */
  instance?: string
  /**
   * Where the errors it survives are reported.
   * @defaultValue SILENT_LOG (nothing is written)
   */
  log?: ServiceLog
}

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
  #worker: Worker | undefined
  #partitionWorker: Worker | undefined
  #sweep: NodeJS.Timeout | undefined
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
    const age = Math.max(1, Math.ceil(this.#options.retentionMs / 1000))
    this.#queue = new Queue(this.#options.name, {
      connection: options.connection,
      prefix: this.#options.prefix,
      defaultJobOptions: { attempts: 1, removeOnComplete: { age }, removeOnFail: { age } }
    })
    this.#partitionQueue = new Queue(this.#options.partitionsName, { connection: options.connection, prefix: this.#options.prefix })
    this.#flows = new FlowProducer({ connection: options.connection, prefix: this.#options.prefix })
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
    this.#sweep = setInterval(() => { void this.#removeExpiredJobs() }, finishedJobSweepMs(this.#options.retentionMs)).unref()
    this.#worker = new Worker(this.#options.name, async (job: Job, token?: string) => {
      const progress = new JobProgressThrottle<ScanJobProgress>(async (value) => await job.updateProgress(value), { intervalMs: this.#progressIntervalMs, onError: this.#progressLost(job.id!) })
      const outcome = await processor(job.id!, this.#shutdown.signal, this.#flow(job, token!), progress.report).finally(async () => await progress.flush())
      if (outcome === 'waiting') throw new WaitingChildrenError()
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
    this.#partitionWorker = new Worker(this.#options.partitionsName, async (job: Job<PartitionJob>, token?: string) => {
      const outcome = await processor(job.data, this.#shutdown.signal, async (fraction) => {
        await job.updateProgress(Math.round(fraction * 1000) / 10)
      })
      if (outcome === 'deferred') {
        await job.moveToDelayed(Date.now() + DEFER_MS, token)
        throw new DelayedError()
      }
      if (outcome === 'handed_back') {
        await job.moveToWait(token)
        throw new WaitingError()
      }
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

  #flow (job: Job<{ id: string, partitioned?: boolean, summary?: { tenant?: string } }>, token: string): ScanJobFlow {
    return {
      tenant: job.data.summary?.tenant,
      partitioned: job.data.partitioned === true,
      waitForPartitions: async (partitions) => {
        const counts = await job.getDependenciesCount()
        const children = Object.values(counts).reduce((sum, n) => sum + n, 0)
        if (partitions !== null && children === 0) {
          if (job.data.partitioned !== true) await job.updateData({ ...job.data, partitioned: true })
          const age = Math.max(1, Math.ceil(this.#options.retentionMs / 1000))
          await this.#flows.addBulk(partitions.map((partition) => ({
            name: partitionJobName(partition),
            queueName: this.#options.partitionsName,
            data: partition,
            opts: {
              jobId: `${partition.id}-${partition.part}`,
              parent: { id: job.id!, queue: job.queueQualifiedName },
              failParentOnFailure: true,
              attempts: 1,
              removeOnComplete: { age },
              removeOnFail: { age }
            }
          })))
        }
        return await job.moveToWaitingChildren(token)
      }
    }
  }

  /**
   * BullMQ removes finished jobs past their age only when a later job of the same queue ends; this
   * removes them on a queue that stays idle too, so a scan's job hashes go with its retention.
   */
  async #removeExpiredJobs (): Promise<void> {
    try {
      for (const queue of [this.#queue, this.#partitionQueue]) {
        for (const state of ['completed', 'failed'] as const) await queue.clean(this.#options.retentionMs, FINISHED_JOB_SWEEP_LIMIT, state)
      }
    } catch (error) {
      this.#options.log.warn({ err: error }, 'could not remove finished jobs past their retention; the next sweep tries again')
    }
  }

  async close (graceMs = 0): Promise<void> {
    clearInterval(this.#sweep)
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

/** Most finished jobs of one state and queue removed by one sweep. */
const FINISHED_JOB_SWEEP_LIMIT = 10_000

/** How often finished jobs past their retention are removed: once a minute, or once a retention when it is shorter (ms). */
export function finishedJobSweepMs (retentionMs: number): number {
  return Math.max(1000, Math.min(60_000, retentionMs))
}

/** The job name the queue dashboard shows: which part of which scan. */
function partitionJobName (partition: PartitionJob): string {
  return `scan ${partition.id} partition ${partition.part + 1}/${partition.partitions} records ${partition.start}-${partition.end}`
}

/**
 * BullMQ timings of the partition worker. Its lock manager ticks every half of `lockRenewTime` and
 * renews the locks it holds that it has not renewed for that long: every eighth of the lock, so an
 * event loop blocked for up to three quarters of it keeps them. A stalled check moves a job back
 * once it finds it unlocked and marked by the check before; with checks every quarter of the lock,
 * the check before a lock expires comes after its last renewal, so a dead holder's job is moved back
 * by the first check after its lock expired: at most 1.25 locks after the holder's last renewal.
 */
export function partitionLockTimings (lockMs: number): { lockDuration: number, lockRenewTime: number, stalledInterval: number } {
  const lockDuration = Math.round(lockMs)
  return { lockDuration, lockRenewTime: Math.floor(lockDuration / 4), stalledInterval: Math.floor(lockDuration / 4) }
}
