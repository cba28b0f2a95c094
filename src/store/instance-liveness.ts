import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'

/**
 * Says in Redis that this instance lives, with a key renewed every third of `ttlMs`, so that the
 * next attempt of a scan can tell an attempt whose instance died from one whose instance lives.
 * Without `ttlMs` it says nothing and names no instance.
 */
export class InstanceLiveness {
  /** This instance's name in the scans it begins; '' without a TTL. */
  readonly id: string
  readonly #redis: Redis
  readonly #prefix: string
  readonly #ttlMs: number
  readonly #heartbeat: NodeJS.Timeout | undefined

  constructor (redis: Redis, prefix: string, ttlMs: number | undefined) {
    this.#redis = redis
    this.#prefix = prefix
    this.id = ttlMs === undefined ? '' : randomUUID()
    this.#ttlMs = ttlMs ?? 0
    if (ttlMs !== undefined) {
      // A missed beat is retried at the next one: the key's TTL spans three of them.
      const beat = (): void => { redis.set(this.#key(this.id), '1', 'PX', ttlMs).catch(() => {}) }
      beat()
      this.#heartbeat = setInterval(beat, Math.max(100, Math.floor(ttlMs / 3)))
      this.#heartbeat.unref()
      redis.on('ready', beat)
    }
  }

  #key (instance: string): string { return `${this.#prefix}instance:${instance}` }

  /**
   * `instance` (named by a running scan) when it no longer says that it lives, '' otherwise. An
   * instance that was cut off from Redis says so again within a third of its TTL once it is back:
   * it is given that long (and a second) before it counts as dead.
   */
  async dead (instance: string | null): Promise<string> {
    if (instance === null || instance === '' || instance === this.id) return ''
    const alive = async (): Promise<boolean> => await this.#redis.exists(this.#key(instance)) === 1
    if (await alive()) return ''
    await new Promise((resolve) => setTimeout(resolve, Math.floor(this.#ttlMs / 3) + 1000))
    return await alive() ? '' : instance
  }

  /** Stops the heartbeat and deletes the key. */
  async close (): Promise<void> {
    if (this.#heartbeat === undefined) return
    clearInterval(this.#heartbeat)
    // Without Redis the key goes when its TTL ends.
    await this.#redis.del(this.#key(this.id)).catch(() => {})
  }
}
