import { mkdtempSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { ScanService } from '../../src/http/scan-service.js'
import { ServiceMetrics } from '../../src/metrics/service-metrics.js'
import { MemoryScanQueue } from '../../src/queue/memory-scan-queue.js'
import { MemoryScanStore } from '../../src/store/memory-scan-store.js'
import { ParallelConfig } from '../../src/parallel/parallel-config.js'
import { validateScan, planScan } from '../../src/pipeline/index.js'
import { startServer, type RunningServer } from '../../src/server.js'

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

export function tempDataDir (): string {
  const dir = mkdtempSync(join(tmpdir(), 'parascan-data-'))
  mkdirSync(dir, { recursive: true })
  return dir
}

export function uniquePrefix (): string {
  return `parascan-test-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
}

/** An embedded app whose queue is never consumed: scans stay queued. */
export async function queuedOnlyApp (options: { bodyLimit?: number, maxWorkers?: number } = {}): Promise<{ app: FastifyInstance, close(): Promise<void> }> {
  const store = new MemoryScanStore()
  const queue = new MemoryScanQueue()
  const metrics = new ServiceMetrics()
  const config = new ParallelConfig({ max_workers: options.maxWorkers ?? 2 }, {})
  const context = { dataDir: tempDataDir() }
  const service = new ScanService({ store, queue, planner: { validateScan, planScan }, context, config })
  const app = await buildApp({ service, metrics, readiness: async () => {}, logLevel: false, bodyLimit: options.bodyLimit })
  return { app, close: async () => { await app.close(); await queue.close(); await store.close() } }
}

/** The real server, embedded (no REDIS_URL) unless `env.REDIS_URL` is given. */
export async function realServer (env: Record<string, string> = {}): Promise<RunningServer> {
  return await startServer({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    DATA_DIR: env.DATA_DIR ?? tempDataDir(),
    PROTO_PARALLEL_MAX_WORKERS: '2',
    ...env
  })
}

export async function waitFor<T> (fn: () => Promise<T | undefined>, timeoutMs = 10_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** Deletes every Redis key under `prefix`. */
export async function dropPrefix (prefix: string): Promise<void> {
  const { Redis } = await import('ioredis')
  const redis = new Redis(REDIS_URL)
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
      if (keys.length > 0) await redis.del(...keys)
      cursor = next
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}

/** A small HTTP JSON client for a server started elsewhere (e.g. in a child process). */
export async function http (base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number, headers: Headers, json: any }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, json: text === '' ? undefined : JSON.parse(text) }
}
