import type { Redis } from 'ioredis'

export interface RedisScanStoreOptions {
  /** Connection for commands; the store closes it. Required. */
  connection: Redis
  /**
   * Connection for the cancel channel (subscriber mode); the store closes it.
   * @defaultValue a duplicate of `connection`
   */
  subscriber?: Redis
  /**
   * Namespace of every key.
   * @defaultValue 'parascan'
   */
  keyPrefix?: string
  /**
   * How long finished scans, their results and idempotency keys are kept (ms).
   * @defaultValue 24 h
   */
  retentionMs?: number
  /**
   * When set, the store says in Redis that this instance lives (a key renewed every third of this
   * many ms) and names it in the scans it begins, so that the next attempt of a scan can tell an
   * attempt whose instance died from one that was handed back or whose instance is still alive.
   * Keep it at most the queue's lock duration.
   * @defaultValue unset (attempts are not counted as crashed)
   */
  instanceTtlMs?: number
}
