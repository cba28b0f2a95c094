import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import assert from 'node:assert/strict'
import type { Redis } from 'ioredis'
import type { Job, Queue } from 'bullmq'
import { freePort } from './free-port.js'
import { http, isReady, tempDataDir, waitFor } from './service-harness.js'

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url))
export const PROCESSORS_DIR = fileURLToPath(new URL('../fixtures/processors/', import.meta.url))

export interface Instance {
  child: ChildProcess
  url: string
  pid: number
  exited: Promise<number | null>
}

/** A service instance in a process of its own (one worker thread unless `env` says otherwise). */
export async function startInstance (env: Record<string, string>, children: ChildProcess[]): Promise<Instance> {
  const port = await freePort()
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent', PROTO_PARALLEL_MAX_WORKERS: '1', DATA_DIR: tempDataDir(), PROCESSORS_DIR, ...env },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  children.push(child)
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000) })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const url = `http://127.0.0.1:${port}`
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`instance exited with ${child.exitCode}: ${stderr}`)
    return await isReady(url)
  }, 90_000, 100).catch((error: Error) => { throw new Error(`${error.message}; instance stderr: ${stderr}`) })
  return { child, url, pid: child.pid!, exited }
}

export async function finished (base: string, id: string, timeoutMs = 60_000): Promise<any> {
  return await waitFor(async () => {
    const { status, json } = await http(base, 'GET', `/v1/scans/${id}`)
    if (status === 503) return undefined
    assert.equal(status, 200, JSON.stringify(json))
    return json.status === 'running' || json.status === 'queued' ? undefined : json
  }, timeoutMs, 100)
}

/** Every result, following next_cursor (waiting while the scan runs). */
export async function readAll (base: string, id: string, limit = 777): Promise<unknown[]> {
  const items: unknown[] = []
  let cursor: string | undefined
  for (;;) {
    const { status, json } = await http(base, 'GET', `/v1/scans/${id}/results?limit=${limit}${cursor === undefined ? '' : `&cursor=${cursor}`}`)
    assert.equal(status, 200, JSON.stringify(json))
    items.push(...json.items)
    if (json.complete) return items
    cursor = json.next_cursor
    if (json.items.length === 0) await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** The partitions hash of a scan: `k:n` attempts begun, `k:p` processed,matched,skipped of the current attempt. */
export async function partitionFields (redis: Redis, prefix: string, id: string): Promise<Record<string, string>> {
  return await redis.hgetall(`${prefix}:scan:{${id}}:parts`)
}

/** Attempts begun per partition, read from the scan's partitions hash. */
export async function partitionRuns (redis: Redis, prefix: string, id: string): Promise<number[]> {
  const runs: number[] = []
  for (const [field, value] of Object.entries(await partitionFields(redis, prefix, id))) {
    const match = /^(\d+):n$/.exec(field)
    if (match !== null) runs[Number(match[1])] = Number(value)
  }
  return runs
}

/** Records the current attempt of partition `part` has processed, as last written. */
export function processedOf (fields: Record<string, string>, part: number): number {
  return Number((fields[`${part}:p`] ?? '0').split(',')[0])
}

/** The active partition job of scan `id` that the instance `pid` runs, once its attempt has processed from `min` to `max` records. */
export async function heldPartition (queue: Queue, redis: Redis, prefix: string, id: string, pid: number, min: number, max: number, timeoutMs = 30_000): Promise<Job> {
  return await waitFor(async () => {
    const active = await queue.getJobs(['active'])
    const job = active.find((j) => j.data.id === id && j.processedBy?.endsWith(`:${pid}`))
    if (job === undefined) return undefined
    const fields = await partitionFields(redis, prefix, id)
    if (fields[`${job.data.part as number}:s`] !== 'r') return undefined
    const processed = processedOf(fields, job.data.part)
    return processed >= min && processed <= max ? job : undefined
  }, timeoutMs, 20)
}

/** When (ms since the epoch, Redis clock) the lock of partition job `jobId` expires; undefined without a lock. */
export async function lockExpiry (redis: Redis, prefix: string, jobId: string): Promise<number | undefined> {
  const replies = await redis.multi().time().pttl(`${prefix}:scan-partitions:${jobId}:lock`).exec()
  const [seconds, micros] = replies?.[0][1] as [string, string]
  const ttl = replies?.[1][1] as number
  return ttl < 0 ? undefined : Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) + ttl
}

/** When (ms since the epoch, Redis clock) BullMQ's stalled check moved partition job `jobId` back to wait, each time it did since `sinceMs`. */
export async function stalledMoves (redis: Redis, prefix: string, jobId: string, sinceMs = 0): Promise<number[]> {
  const entries = await redis.xrange(`${prefix}:scan-partitions:events`, sinceMs > 0 ? String(sinceMs) : '-', '+')
  return entries
    .filter(([, fields]) => fields[0] === 'event' && fields[1] === 'stalled' && fields[fields.indexOf('jobId') + 1] === jobId)
    .map(([entryId]) => Number(entryId.split('-')[0]))
}
