import { DelayedError, type Job, WaitingError } from 'bullmq'
import { DEFER_MS, type ScanJobOutcome } from './scan-queue.js'

/**
 * Puts back the job `job`, run with the lock `token`, when its processor ended 'deferred' (behind
 * the others, after DEFER_MS) or 'handed_back' (at once, for another instance): it throws the error
 * that tells BullMQ the job was moved. Any other outcome is left to the caller.
 */
export async function requeueIfAsked (job: Job, token: string | undefined, outcome: ScanJobOutcome): Promise<void> {
  if (outcome === 'deferred') {
    await job.moveToDelayed(Date.now() + DEFER_MS, token)
    throw new DelayedError()
  }
  if (outcome === 'handed_back') {
    await job.moveToWait(token)
    throw new WaitingError()
  }
}
