import autocannon from 'autocannon'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { startServer, type RunningServer } from '../src/server.js'
import { dropPrefix } from '../test/helpers/service-harness.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const DURATION_S = Number(process.env.BENCH_DURATION ?? 5)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const LATENCY_SCANS = Number(process.env.BENCH_LATENCY_SCANS ?? 200)
const TINY_SCAN = JSON.stringify({ source: { type: 'range', start: 0, end: 100 }, pipeline: [{ filter: 'record % 2 == 0' }] })

function prefix (): string {
  return `parascan-bench-${process.pid}-${Date.now().toString(36)}`
}

async function server (env: Record<string, string>): Promise<RunningServer> {
  return await startServer({
    PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', DATA_DIR: mkdtempSync(join(tmpdir(), 'parascan-bench-')),
    PROTO_PARALLEL_MAX_WORKERS: '2', ...env
  })
}


/** POST /v1/scans on a server in its own process (the API-only instance, or `entry`), as many as autocannon can push. */
async function apiSubmitRate (entry = '../src/main.js'): Promise<number> {
  const name = prefix()
  const port = 30000 + Math.floor(Math.random() * 20000)
  const api = spawn(process.execPath, [fileURLToPath(new URL(entry, import.meta.url))], {
    env: {
      ...process.env,
      REDIS_URL,
      PARASCAN_KEY_PREFIX: name,
      PARASCAN_CONCURRENCY: '0',
      PARASCAN_MAX_QUEUED_SCANS: '100000000',
      PARASCAN_MAX_QUEUED_SCANS_PER_TENANT: '100000000',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent'
    },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  const exited = new Promise((resolve) => api.once('exit', resolve))
  const url = `http://127.0.0.1:${port}`
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${url}/readyz`)).ok) break
      } catch { /* not listening yet */ }
      if (i > 200) throw new Error('the API instance did not start')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const result = await autocannon({
      url: `${url}/v1/scans`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: TINY_SCAN,
      connections: CONNECTIONS,
      duration: DURATION_S
    })
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx answers, ${result.errors} errors`)
    return result.requests.average
  } finally {
    api.kill('SIGTERM')
    await exited
    await dropPrefix(name)
  }
}

/** Queue.add on the same Redis, with as many adds in flight as autocannon has connections. */
async function rawQueueAddRate (): Promise<number> {
  const name = prefix()
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null })
  const queue = new Queue('scans', { connection, prefix: name })
  let added = 0
  const until = Date.now() + DURATION_S * 1000
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (Date.now() < until) {
      await queue.add('scan', { id: `${added}` }, { jobId: `job-${added++}` })
    }
  }))
  await queue.close()
  connection.disconnect()
  await dropPrefix(name)
  return added / DURATION_S
}

/** Milliseconds from POST to the first GET that sees the scan finished, one scan at a time. */
async function submitToFinished (env: Record<string, string>): Promise<number[]> {
  const name = prefix()
  const instance = await server({ PARASCAN_KEY_PREFIX: name, ...env })
  const samples: number[] = []
  try {
    for (let i = 0; i < LATENCY_SCANS + 20; i++) {
      const started = performance.now()
      const response = await fetch(`${instance.url}/v1/scans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: TINY_SCAN })
      const { id } = await response.json() as { id: string }
      for (;;) {
        const status = await (await fetch(`${instance.url}/v1/scans/${id}`)).json() as { status: string }
        if (status.status === 'succeeded') break
        if (status.status === 'failed' || status.status === 'cancelled') throw new Error(`scan ${status.status}`)
      }
      if (i >= 20) samples.push(performance.now() - started)
    }
  } finally {
    await instance.close()
    if (env.REDIS_URL !== undefined) await dropPrefix(name)
  }
  return samples.sort((a, b) => a - b)
}

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)]
}

const api = await apiSubmitRate()
const floor = await apiSubmitRate('./http-queue-add-server.js')
const raw = await rawQueueAddRate()
const embedded = await submitToFinished({})
const redis = await submitToFinished({ REDIS_URL })

const fmt = (n: number): string => n.toFixed(2)
const rows = [
  '| measure | value | target |',
  '|---|---|---|',
  `| POST /v1/scans (API-only instance, ${CONNECTIONS} connections, ${DURATION_S} s) | ${Math.round(api)} req/s | |`,
  `| raw BullMQ Queue.add (${CONNECTIONS} in flight, same Redis) | ${Math.round(raw)} adds/s | |`,
  `| API / raw | ${(100 * api / raw).toFixed(0)} % | >= 70 % |`,
  `| floor: a bare Fastify route that only calls Queue.add (${CONNECTIONS} connections) | ${Math.round(floor)} req/s (${(100 * floor / raw).toFixed(0)} % of raw) | |`,
  `| API / floor | ${(100 * api / floor).toFixed(0)} % | |`,
  `| submit-to-finished, embedded, p50 / p99 (${embedded.length} scans) | ${fmt(percentile(embedded, 50))} / ${fmt(percentile(embedded, 99))} ms | p50 < 10 ms |`,
  `| submit-to-finished, Redis, p50 / p99 (${redis.length} scans) | ${fmt(percentile(redis, 50))} / ${fmt(percentile(redis, 99))} ms | p50 < 20 ms |`
]
process.stdout.write(`${rows.join('\n')}\n`)
