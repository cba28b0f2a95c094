import { Redis } from 'ioredis'
import type { FastifyInstance } from 'fastify'
import { buildApp } from './app.js'
import { loadServiceConfig, type ServiceConfig } from './config/service-config.js'
import { ParallelConfig } from './parallel/parallel-config.js'
import { WorkStealingPool } from './parallel/work-stealing-pool.js'
import { validateScan, planScan } from './pipeline/index.js'
import { ServiceMetrics } from './metrics/service-metrics.js'
import { ScanService } from './http/scan-service.js'
import type { ScanPool } from './http/scan-planner.js'
import type { ScanQueue } from './queue/scan-queue.js'
import type { ScanStore } from './store/scan-store.js'
import { MemoryScanQueue } from './queue/memory-scan-queue.js'
import { MemoryScanStore } from './store/memory-scan-store.js'
import { BullmqScanQueue } from './queue/bullmq-scan-queue.js'
import { RedisScanStore } from './store/redis-scan-store.js'
import { ScanConsumer } from '../workers/scan-consumer.js'
import { ServiceUnavailableError } from './errors.js'

export interface RunningServer {
  app: FastifyInstance
  /** Base URL the server listens on, e.g. http://127.0.0.1:3000. */
  url: string
  config: ServiceConfig
  /** Stops taking work, lets the running scans finish within SHUTDOWN_GRACE (or hands them back), closes everything. */
  close(): Promise<void>
}

const REDIS_CONNECT_TIMEOUT_MS = 5000

/** Starts one service instance from the environment: embedded without REDIS_URL, on BullMQ + Redis with it. */
export async function startServer (env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  const config = loadServiceConfig(env)
  const parallel = new ParallelConfig({}, env)
  const context = { dataDir: config.dataDir, processorsDir: config.processorsDir }
  const planner = { validateScan, planScan }
  const metrics = new ServiceMetrics()

  const { store, queue } = config.redisUrl === undefined
    ? { store: new MemoryScanStore({ retentionMs: config.retentionMs }), queue: new MemoryScanQueue({ concurrency: config.concurrency }) }
    : await connectRedis(config)

  let pool: ScanPool & { close(): Promise<void> }
  try {
    pool = new WorkStealingPool({ config: parallel })
  } catch (error) {
    await Promise.allSettled([queue.close(), store.close()])
    throw error
  }
  let poolOpen = true
  let poolState: 'starting' | 'started' | Error = 'starting'
  const warmUp = planScan({ source: { type: 'range', start: 0, end: parallel.max_workers }, pipeline: [], ordered: false, on_error: 'fail' }, context)
    .then(async (plan) => await pool.stream(plan.total, plan.task, { onBatch: () => {} }))
  warmUp.then(() => { poolState = 'started' }, (error: unknown) => { poolState = error instanceof Error ? error : new Error(String(error)) })

  const consumer = new ScanConsumer({ pool, config: parallel, store, planner, context, metrics, progressIntervalMs: config.progressIntervalMs })
  if (store instanceof RedisScanStore) await store.ready()
  if (config.concurrency > 0) queue.process(consumer.process)
  queue.onJobLost((id) => {
    const error = { code: 'PARASCAN_SCAN_LOST', message: 'The instances running this scan kept stopping; the queue gave up on it' }
    store.abandon(id, error, new Date().toISOString()).then((abandoned) => {
      if (abandoned) metrics.scans.inc({ outcome: 'failed' })
    }, () => {})
  })

  const service = new ScanService({ store, queue, planner, context, config: parallel })
  const app = await buildApp({
    service,
    metrics,
    bodyLimit: config.bodyLimit,
    logLevel: config.logLevel,
    readiness: async () => {
      if (!poolOpen) throw new ServiceUnavailableError('the worker pool is closed')
      if (poolState === 'starting') throw new ServiceUnavailableError('the worker pool is starting')
      if (poolState instanceof Error) throw new ServiceUnavailableError(`the worker pool did not start: ${poolState.message}`)
      await withTimeout(Promise.all([store.ping(), queue.ping()]), 2000, 'queue or store unreachable')
    },
    beforeScrape: async () => metrics.queueCounts(await withTimeout(queue.counts(), 2000, 'queue unreachable')),
    adminQueues: queue instanceof BullmqScanQueue && config.adminUi ? [queue.queue] : undefined
  })

  let closing: Promise<void> | undefined
  const close = async (): Promise<void> => {
    closing ??= (async () => {
      await app.close()
      await queue.close(config.shutdownGraceMs)
      poolOpen = false
      await pool.close()
      await store.close()
    })()
    return await closing
  }

  try {
    const address = await app.listen({ port: config.port, host: config.host })
    return { app, url: address, config, close }
  } catch (error) {
    await close()
    throw error
  }
}

async function connectRedis (config: ServiceConfig): Promise<{ store: ScanStore, queue: ScanQueue }> {
  const url = config.redisUrl!
  const options = { maxRetriesPerRequest: null, connectTimeout: REDIS_CONNECT_TIMEOUT_MS, lazyConnect: true }
  const connections = [new Redis(url, options), new Redis(url, options), new Redis(url, options)]
  for (const connection of connections) connection.on('error', () => {})
  try {
    await withTimeout(Promise.all(connections.map(async (c) => await c.connect())), REDIS_CONNECT_TIMEOUT_MS, `cannot reach REDIS_URL ${redact(url)}`)
  } catch (error) {
    for (const connection of connections) connection.disconnect()
    throw error
  }
  const [commands, subscriber, workerConnection] = connections
  return {
    store: new RedisScanStore({ connection: commands, subscriber, keyPrefix: config.keyPrefix, retentionMs: config.retentionMs }),
    // One connection for the store and the queue: Redis runs a submit's record write before its job add, in one round trip.
    queue: new BullmqScanQueue({
      connection: commands,
      sharedConnection: true,
      workerConnection,
      prefix: config.keyPrefix,
      concurrency: config.concurrency,
      lockDurationMs: config.lockDurationMs,
      retentionMs: config.retentionMs
    })
  }
}

async function withTimeout<T> (promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new ServiceUnavailableError(message)), ms) })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

function redact (url: string): string {
  const parsed = new URL(url)
  if (parsed.password !== '') parsed.password = '***'
  return parsed.toString()
}
