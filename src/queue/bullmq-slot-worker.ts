import { type Job, Worker } from 'bullmq'

interface Slot {
  ended: Promise<unknown>
  overtaken: AbortController
}

/**
 * A BullMQ Worker whose slots never hold the same job at once. A slot that put a job back stands
 * aside past the time the job is due, and another slot of the same worker may take it meanwhile;
 * BullMQ renews locks by job id only, so the end of the first slot would stop the renewals of the
 * second's lock: it would expire while the job runs, and the job would be taken again elsewhere.
 * The second slot asks the first to stop standing aside and starts the job once the first has ended.
 */
export class SlotWorker<D = unknown, R = unknown> extends Worker<D, R> {
  readonly #slots = new Map<string, Slot>()

  /** Aborted when another slot of this worker takes the job `id`, which this slot holds. */
  overtaken (id: string): AbortSignal {
    return this.#slots.get(id)?.overtaken.signal ?? AbortSignal.abort()
  }

  /** The slot holding the job `id` gave its lock up (it put the job back): its lock is no longer renewed. */
  unlocked (id: string): void {
    this.lockManager.untrackJob(id)
  }

  override async processJob (job: Job<D, R>, token: string, fetchNextCallback?: () => boolean): Promise<void | Job<D, R>> {
    const id = job.id!
    const before = this.#slots.get(id)
    if (before !== undefined) {
      before.overtaken.abort()
      await before.ended.catch(() => {})
    }
    const slot: Slot = { ended: super.processJob(job, token, fetchNextCallback), overtaken: new AbortController() }
    this.#slots.set(id, slot)
    try {
      return await slot.ended as void | Job<D, R>
    } finally {
      if (this.#slots.get(id) === slot) this.#slots.delete(id)
    }
  }
}
