import { mkdtempSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildApp, type AppOptions } from '../../src/app.js'
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

export interface BuildOptions extends Omit<AppOptions, 'env'> {
  /** Environment of the app, over a quiet embedded default (a fresh DATA_DIR, 2 workers); process.env is not read. */
  env?: Record<string, string>
}

/**
 * The app as `npm start` builds it, not listening (use `app.inject`), closed when `t` ends: pass a test's
 * context, or `{ after }` of node:test for an app that a whole file shares.
 */
export async function build (t: { after(fn: () => Promise<void>): void }, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = await buildApp({
    ...options,
    env: { PARASCAN_LOG_LEVEL: 'silent', PARASCAN_DATA_DIR: tempDataDir(), PROTO_PARALLEL_MAX_WORKERS: '2', ...options.env }
  })
  t.after(async () => await app.close())
  return app
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
/** true once the instance at `url` answers /readyz with 2xx; undefined until then (for waitFor). */
export async function isReady (url: string): Promise<true | undefined> {
  try {
    return (await fetch(`${url}/readyz`)).ok ? true : undefined
  } catch {
    return undefined
  }
}

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
