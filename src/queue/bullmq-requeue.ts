import { setTimeout as sleep } from 'node:timers/promises'
import { DelayedError, type Job, WaitingError } from 'bullmq'
import { DEFER_MS, type ScanJobOutcome } from './scan-queue.js'

/** What the slot that put a job back waits on before it takes another job. */
export interface StandAside {
  /** True when other jobs are waiting to be taken. */
  othersWaiting: () => Promise<boolean>
  /** Aborted when the instance stops taking jobs, or another of its slots takes the job. */
  stopping: AbortSignal
  /** Called once the job has left this slot's lock: its renewals, which could only fail, stop. */
  unlocked: () => void
}

const LOOK_MS = 100

/**
 * Puts back the job `job`, run with the lock `token`, when its processor ended 'deferred' (behind
 * the others, after DEFER_MS) or 'handed_back' (at once, for another instance): it throws the error
 * that tells BullMQ the job was moved. Any other outcome is left to the caller.
 *
 * After a deferral the slot stays away until DEFER_MS after the job is due, unless other jobs wait:
 * every idle instance wakes when the job is due and Redis answers them in the same order each time,
 * so an instance that came first and had no room for it would come first again and again, while one
 * with room waited. Standing aside lets the others take it first.
 */
export async function requeueIfAsked (job: Job, token: string | undefined, outcome: ScanJobOutcome, aside?: StandAside): Promise<void> {
  if (outcome === 'deferred') {
    const due = Date.now() + DEFER_MS
    await job.moveToDelayed(due, token)
    if (aside !== undefined) {
      aside.unlocked()
      await standAside(due + DEFER_MS, aside)
    }
    throw new DelayedError()
  }
  if (outcome === 'handed_back') {
    await job.moveToWait(token)
    throw new WaitingError()
  }
}

async function standAside (until: number, { othersWaiting, stopping }: StandAside): Promise<void> {
  while (!stopping.aborted && Date.now() < until) {
    if (await othersWaiting().catch(() => true)) return
    await sleep(Math.min(LOOK_MS, until - Date.now()), undefined, { signal: stopping }).catch(() => {})
  }
}
