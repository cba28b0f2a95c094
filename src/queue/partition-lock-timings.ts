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
