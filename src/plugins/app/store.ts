import fp from 'fastify-plugin'
import type { ScanStore } from '../../store/scan-store.js'
import { MemoryScanStore } from '../../store/memory-scan-store.js'
import { RedisScanStore } from '../../store/redis-scan-store.js'
import { openStateDir } from '../../store/open-state-dir.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The store HTTP requests read and write. */
    store: ScanStore
    /** The store of the scans that run here (on Redis, a connection that waits for Redis instead of failing fast). */
    consumerStore: ScanStore
  }
}

export interface StorePluginOptions {
  /**
   * Used for both stores instead of the one the configuration picks.
   * @defaultValue memory (on PARASCAN_STATE_DIR when it is set), or Redis with REDIS_URL
   */
  store?: ScanStore
}

export default fp<StorePluginOptions>(async (app, options) => {
  const { config, redis } = app
  let store: ScanStore
  let consumerStore: ScanStore
  if (options.store !== undefined || redis === null) {
    store = consumerStore = options.store ?? (config.stateDir === undefined
      ? new MemoryScanStore({ retentionMs: config.retentionMs })
      : await openStateDir({ dir: config.stateDir, variable: config.variables.PARASCAN_STATE_DIR, retentionMs: config.retentionMs }))
  } else {
    const shared = { keyPrefix: config.keyPrefix, retentionMs: config.retentionMs }
    store = new RedisScanStore({ ...shared, connection: redis.requests, subscriber: redis.subscriber.duplicate() })
    const scans = new RedisScanStore({ ...shared, connection: redis.scans, subscriber: redis.subscriber, instanceTtlMs: config.lockDurationMs })
    consumerStore = scans
  }
  app.decorate('store', store)
  app.decorate('consumerStore', consumerStore)
  app.addHook('onClose', async () => {
    await Promise.all([store.close(), consumerStore === store ? undefined : consumerStore.close()])
  })
  if (consumerStore instanceof RedisScanStore) await consumerStore.ready()
}, { name: 'store', dependencies: ['config', 'redis'] })
