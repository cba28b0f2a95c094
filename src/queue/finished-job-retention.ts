import type { Queue } from 'bullmq'
import type { ServiceLog } from '../service-log.js'

/** Most finished jobs of one state and queue removed by one sweep. */
const FINISHED_JOB_SWEEP_LIMIT = 10_000

/** How long BullMQ keeps a finished job (`removeOnComplete`/`removeOnFail` age, in seconds). */
export function finishedJobAge (retentionMs: number): number {
  return Math.max(1, Math.ceil(retentionMs / 1000))
}

/** How often finished jobs past their retention are removed: once a minute, or once a retention when it is shorter (ms). */
export function finishedJobSweepMs (retentionMs: number): number {
  return Math.max(1000, Math.min(60_000, retentionMs))
}

/**
 * BullMQ removes finished jobs past their age only when a later job of the same queue ends; this
 * removes them on a queue that stays idle too, so a scan's job hashes go with its retention.
 */
export class FinishedJobSweep {
  readonly #queues: Queue[]
  readonly #retentionMs: number
  readonly #log: ServiceLog
  #timer: NodeJS.Timeout | undefined

  constructor (queues: Queue[], retentionMs: number, log: ServiceLog) {
    this.#queues = queues
    this.#retentionMs = retentionMs
    this.#log = log
  }

  start (): void {
    this.#timer = setInterval(() => { void this.#removeExpiredJobs() }, finishedJobSweepMs(this.#retentionMs)).unref()
  }

  stop (): void {
    clearInterval(this.#timer)
  }

  async #removeExpiredJobs (): Promise<void> {
    try {
      for (const queue of this.#queues) {
        for (const state of ['completed', 'failed'] as const) await queue.clean(this.#retentionMs, FINISHED_JOB_SWEEP_LIMIT, state)
      }
    } catch (error) {
      this.#log.warn({ err: error }, 'could not remove finished jobs past their retention; the next sweep tries again')
    }
  }
}
