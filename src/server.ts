import { join } from 'node:path'
import { hostname } from 'node:os'
import { Redis, type RedisOptions } from 'ioredis'
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
import { ScanLimits } from './http/scan-limits.js'
import { processorCatalogue } from './pipeline/processor-catalogue.js'

export interface RunningServer {
  app: FastifyInstance
  /** Base URL the server listens on, e.g. http://127.0.0.1:3000. */
  url: string
  config: ServiceConfig
  /** Stops taking work, lets the running scans finish within SHUTDOWN_GRACE (or hands them back), closes everything. */
  close(): Promise<void>
}

const REDIS_CONNECT_TIMEOUT_MS = 5000
const REQUEST_COMMAND_TIMEOUT_MS = 3000
/** How long after SHUTDOWN_GRACE a shutdown may wait for Redis before it drops the connections. */
const SHUTDOWN_FENCE_MS = 2000

/** Starts one service instance from the environment: embedded without REDIS_URL, on BullMQ + Redis with it. */
export async function startServer (env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  const config = loadServiceConfig(env)
  const parallel = new ParallelConfig({}, env)
  const valueLimits = { valueBytes: config.maxValueBytes, resultBytes: config.maxResultBytes, groups: config.maxGroups }
  const context = { dataDir: config.dataDir, processorsDir: config.processorsDir, valueLimits }
  const contextFor = (tenant: string | undefined): typeof context =>
    config.dataDirPerTenant && tenant !== undefined ? { ...context, dataDir: join(config.dataDir, tenant) } : context
  const planner = { validateScan, planScan }
  const metrics = new ServiceMetrics({ scanTimeoutMs: config.scanTimeoutMs })

  const { store, consumerStore, queue, rateLimitRedis, disconnect } = config.redisUrl === undefined
    ? embedded(config)
    : await connectRedis(config)

  let pool: ScanPool & { close(): Promise<void> }
  try {
    pool = new WorkStealingPool({ config: parallel, max_old_generation_mb: config.workerHeapMb })
  } catch (error) {
    await Promise.allSettled([queue.close(), store.close(), consumerStore.close()])
    throw error
  }
  let poolOpen = true
  let poolState: 'starting' | 'started' | Error = 'starting'
  const warmUp = planScan({ source: { type: 'range', start: 0, end: parallel.max_workers }, pipeline: [], ordered: false, on_error: 'fail' }, context)
    .then(async (plan) => await pool.stream(plan.total, plan.task, { onBatch: () => {} }))
  warmUp.then(() => { poolState = 'started' }, (error: unknown) => { poolState = error instanceof Error ? error : new Error(String(error)) })

  const consumer = new ScanConsumer({
    pool,
    config: parallel,
    store: consumerStore,
    planner,
    context,
    contextFor,
    metrics,
    progressIntervalMs: config.progressIntervalMs,
    scanTimeoutMs: config.scanTimeoutMs,
    maxScanResultBytes: config.maxScanResultBytes,
    maxCrashedAttempts: config.maxCrashedAttempts,
    recordTimeLimitMs: config.recordTimeLimitMs,
    maxRunningPerTenant: config.maxRunningScansPerTenant,
    partitionPolicy: { partitionRecords: config.partitionRecords, maxPartitions: config.maxPartitions },
    instance: instanceName()
  })
  if (consumerStore instanceof RedisScanStore) await consumerStore.ready()
  if (config.concurrency > 0) queue.process(consumer.process, consumer.processPartition)
  queue.onJobLost((id) => {
    const error = { code: 'PARASCAN_SCAN_LOST', message: 'The instances running this scan kept stopping; the queue gave up on it' }
    consumer.abandon(id, error).then((abandoned) => {
      if (abandoned) metrics.scans.inc({ outcome: 'failed' })
    }, () => {})
  })

  const limits = new ScanLimits({
    maxInlineRecords: config.maxInlineRecords,
    maxExpressionLength: config.maxExpressionLength,
    maxPipelineSteps: config.maxPipelineSteps,
    maxResults: config.maxResults,
    scanTimeoutMs: config.scanTimeoutMs,
    maxPartitions: config.maxPartitions
  })
  const admission = { maxQueued: config.maxQueuedScans, maxQueuedPerTenant: config.maxQueuedScansPerTenant }
  const service = new ScanService({ store, queue, planner, context, contextFor, config: parallel, limits, admission, maxPageBytes: config.maxPageBytes })
  const app = await buildApp({
    service,
    metrics,
    apiKeys: config.apiKeys,
    metricsToken: config.metricsToken,
    rateLimit: config.rateLimit,
    rateLimitWindowMs: config.rateLimitWindowMs,
    authFailures: { maxFailures: config.authFailureLimit, windowMs: config.authFailureWindowMs },
    rateLimitRedis,
    rateLimitNamespace: `${config.keyPrefix}:rate-limit:`,
    bodyLimit: config.bodyLimit,
    requestTimeoutMs: config.requestTimeoutMs,
    headersTimeoutMs: config.headersTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    maxConnections: config.maxConnections,
    logLevel: config.logLevel,
    readiness: async () => {
      if (!poolOpen) throw new ServiceUnavailableError('the worker pool is closed')
      if (poolState === 'starting') throw new ServiceUnavailableError('the worker pool is starting')
      if (poolState instanceof Error) throw new ServiceUnavailableError(`the worker pool did not start: ${poolState.message}`)
      await withTimeout(Promise.all([store.ping(), queue.ping()]), 2000, 'queue or store unreachable')
    },
    beforeScrape: async () => metrics.queueCounts(await withTimeout(queue.counts(), 2000, 'queue unreachable')),
    // With tenants, the dashboard (every tenant's scans) needs a credential of its own; without one it is off.
    adminQueues: queue instanceof BullmqScanQueue && config.adminUi && (config.apiKeys === undefined || config.adminCredentials !== undefined) ? queue.queues : undefined,
    adminCredentials: config.adminCredentials
  })
  const catalogue = await processorCatalogue(config.processorsDir)
  const processors = [...catalogue.entries.entries()].map(([name, entry]) => entry.file === undefined ? name : `${name} (${entry.file})`)
  app.log.info({ processorsDir: config.processorsDir, processors }, `processors: ${processors.join(', ')}`)
  for (const problem of catalogue.problems) app.log.warn({ processorsDir: config.processorsDir }, `plug-in left out: ${problem}`)

  let closing: Promise<void> | undefined
  const close = async (): Promise<void> => {
    closing ??= (async () => {
      const steps = (async () => {
        await app.close()
        await queue.close(config.shutdownGraceMs)
        poolOpen = false
        await pool.close()
        await Promise.all([store.close(), consumerStore === store ? undefined : consumerStore.close()])
      })()
      // Whatever Redis does, the shutdown ends a few seconds after the grace period: every Redis connection is
      // dropped then, and a second later the close is over even if a client library still waits.
      let timer: NodeJS.Timeout | undefined
      const fence = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          app.log.warn('Redis held the shutdown up; its connections are dropped')
          disconnect?.()
          timer = setTimeout(resolve, 1000)
        }, config.shutdownGraceMs + SHUTDOWN_FENCE_MS)
      })
      try {
        await Promise.race([steps, fence])
      } finally {
        clearTimeout(timer)
      }
    })()
    return await closing
  }

  try {
    const address = await app.listen({ port: config.port, host: config.host })
    return { app, url: address, config, close }
  } catch (error) {
    await close()
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') {
      throw new Error(`cannot listen on ${config.host}:${config.port} (HOST, PORT): ${(error as Error).message}`)
    }
    throw error
  }
}

interface Backends {
  /** The store of the HTTP requests. */
  store: ScanStore
  /** The store of the scans that run here. */
  consumerStore: ScanStore
  queue: ScanQueue
  rateLimitRedis?: Redis
  /** Drops every Redis connection at once (a shutdown that Redis holds up). Default: nothing to drop. */
  disconnect?: () => void
}

function embedded (config: ServiceConfig): Backends {
  const store = new MemoryScanStore({ retentionMs: config.retentionMs })
  return { store, consumerStore: store, queue: new MemoryScanQueue({ concurrency: config.concurrency }) }
}

/**
 * HTTP requests use a connection that fails at once while Redis is away (no offline queue, one retry,
 * a command timeout), so that they answer 503 instead of waiting; running scans use connections that
 * wait for Redis to come back.
 */
async function connectRedis (config: ServiceConfig): Promise<Backends> {
  const url = config.redisUrl!
  const options: RedisOptions = { maxRetriesPerRequest: null, connectTimeout: REDIS_CONNECT_TIMEOUT_MS, lazyConnect: true }
  const failFast: RedisOptions = { ...options, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: REQUEST_COMMAND_TIMEOUT_MS }
  const connections = [new Redis(url, failFast), new Redis(url, options), new Redis(url, options), new Redis(url, options)]
  let lastError: Error | undefined
  for (const connection of connections) connection.on('error', (error: Error) => { lastError = error })
  try {
    await withTimeout(Promise.all(connections.map(async (c) => await c.connect())), REDIS_CONNECT_TIMEOUT_MS, `no answer within ${REDIS_CONNECT_TIMEOUT_MS} ms`)
  } catch (error) {
    for (const connection of connections) connection.disconnect()
    const { host, port } = connections[0].options
    const reason = (lastError ?? error as Error).message
    throw new ServiceUnavailableError(`cannot reach Redis at ${host}:${port} (REDIS_URL=${redact(url)}): ${reason}`)
  }
  const [commands, consumerCommands, subscriber, workerConnection] = connections
  const subscriberOfRequests = subscriber.duplicate()
  return {
    disconnect: () => { for (const connection of [...connections, subscriberOfRequests]) connection.disconnect() },
    store: new RedisScanStore({ connection: commands, subscriber: subscriberOfRequests, keyPrefix: config.keyPrefix, retentionMs: config.retentionMs }),
    consumerStore: new RedisScanStore({ connection: consumerCommands, subscriber, keyPrefix: config.keyPrefix, retentionMs: config.retentionMs, instanceTtlMs: config.lockDurationMs }),
    rateLimitRedis: commands,
    queue: new BullmqScanQueue({
      connection: commands,
      sharedConnection: true,
      workerConnection,
      prefix: config.keyPrefix,
      concurrency: config.concurrency,
      lockDurationMs: config.lockDurationMs,
      partitionLockMs: config.partitionLockMs,
      instance: instanceName(),
      retentionMs: config.retentionMs
    })
  }
}

/** Names this instance in per-worker metrics and as the processor of its partition jobs. */
function instanceName (): string {
  return `${hostname()}:${process.pid}`
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
