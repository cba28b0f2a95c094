import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { freePort } from '../test/helpers/free-port.js'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { dropPrefix } from '../test/helpers/service-harness.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const QUICK = process.argv.includes('--quick')
const CONCURRENT_SCANS = QUICK ? 200 : 1000
const SMALL_SCANS = QUICK ? 2000 : 10_000
const SMALL_IN_FLIGHT = 100
const SMALL_ROUNDS = 5
const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url))
const PROBE = fileURLToPath(new URL('./memory-probe.js', import.meta.url))

interface Instance { child: ChildProcess, url: string, exited: Promise<unknown>, probeFile: string }
interface Submitted { id: string, expected: number }


async function startInstance (prefix: string): Promise<Instance> {
  const port = await freePort()
  const probeFile = join(mkdtempSync(join(tmpdir(), 'parascan-probe-')), 'memory.json')
  const child = spawn(process.execPath, ['--expose-gc', '--import', PROBE, MAIN], {
    env: {
      ...process.env,
      MEMORY_PROBE_FILE: probeFile,
      REDIS_URL,
      PARASCAN_KEY_PREFIX: prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'parascan-load-')),
      PROTO_PARALLEL_MAX_WORKERS: '1',
      PARASCAN_CONCURRENCY: '2',
      PARASCAN_MAX_QUEUED_SCANS: '1000000',
      PARASCAN_MAX_QUEUED_SCANS_PER_TENANT: '1000000',
      RETENTION: '10m'
    },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    const ready = await fetch(`${url}/readyz`).then((response) => response.ok, () => false)
    if (ready) return { child, url, exited, probeFile }
    if (i > 300) throw new Error(`instance on port ${port} did not become ready`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

interface Memory { rss: number, heapUsed: number }

/** RSS and V8 heap in use (MiB) of an instance, right after a full garbage collection in it. */
async function memory (instance: Instance): Promise<Memory> {
  rmSync(instance.probeFile, { force: true })
  instance.child.kill('SIGWINCH')
  for (let i = 0; !existsSync(instance.probeFile); i++) {
    if (i > 200) throw new Error('the memory probe did not answer')
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  await new Promise((resolve) => setTimeout(resolve, 25))
  const usage = JSON.parse(readFileSync(instance.probeFile, 'utf8')) as Memory
  return { rss: usage.rss / 2 ** 20, heapUsed: usage.heapUsed / 2 ** 20 }
}

async function memories (instances: Instance[]): Promise<Memory[]> {
  return await Promise.all(instances.map(async (instance) => await memory(instance)))
}

function show (values: Memory[]): string {
  return values.map((m) => `${m.rss.toFixed(0)} (heap ${m.heapUsed.toFixed(0)})`).join(' / ')
}

const SIZES = [10, 1000, 20_000]
function mixedScan (i: number): { body: object, expected: number } {
  const end = SIZES[i % SIZES.length] + (i % 13)
  return { body: { source: { type: 'range', start: 0, end }, pipeline: [{ filter: 'record % 7 == 0' }, { map: 'record * 2' }] }, expected: Math.ceil(end / 7) }
}
function smallScan (i: number): { body: object, expected: number } {
  const end = 100 + (i % 50)
  return { body: { source: { type: 'range', start: 0, end }, pipeline: [{ filter: 'record % 3 == 0' }] }, expected: Math.ceil(end / 3) }
}

async function submit (base: string, body: object): Promise<string> {
  for (;;) {
    const response = await fetch(`${base}/v1/scans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const json = await response.json() as { id: string, code?: string }
    if (response.status === 202) return json.id
    if (response.status !== 503 && response.status !== 429) throw new Error(`submit: ${response.status} ${JSON.stringify(json)}`)
    await new Promise((resolve) => setTimeout(resolve, Number(response.headers.get('retry-after') ?? 1) * 1000))
  }
}

async function submitAll (instances: Instance[], count: number, make: (i: number) => { body: object, expected: number }, inFlight: number): Promise<Submitted[]> {
  const out: Submitted[] = new Array(count)
  let next = 0
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, async () => {
    while (next < count) {
      const i = next++
      const { body, expected } = make(i)
      out[i] = { id: await submit(instances[i % instances.length].url, body), expected }
    }
  }))
  return out
}

interface StatusDoc { id: string, status: string, created_at: string, finished_at: string | null, result: { count: number }, error: unknown }

/** Waits until every scan has finished, reading the list page by page; returns the status documents by id. */
async function awaitAll (base: string, scans: Submitted[]): Promise<Map<string, StatusDoc>> {
  const wanted = new Set(scans.map((scan) => scan.id))
  const done = new Map<string, StatusDoc>()
  const deadline = Date.now() + 30 * 60_000
  while (done.size < wanted.size) {
    if (Date.now() > deadline) throw new Error(`${wanted.size - done.size} scans did not finish`)
    let cursor: string | undefined
    do {
      const response = await fetch(`${base}/v1/scans?limit=1000${cursor === undefined ? '' : `&cursor=${cursor}`}`)
      const page = await response.json() as { items: StatusDoc[], next_cursor?: string }
      for (const doc of page.items) {
        if (wanted.has(doc.id) && doc.finished_at !== null) done.set(doc.id, doc)
      }
      cursor = page.next_cursor
    } while (cursor !== undefined)
    if (done.size < wanted.size) await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return done
}

function check (scans: Submitted[], docs: Map<string, StatusDoc>): void {
  for (const scan of scans) {
    const doc = docs.get(scan.id)!
    if (doc.status !== 'succeeded' || doc.result.count !== scan.expected) {
      throw new Error(`scan ${scan.id}: ${doc.status}, ${doc.result.count} results, expected ${scan.expected} (${JSON.stringify(doc.error)})`)
    }
  }
}

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}


const prefix = `parascan-load-${process.pid}-${Date.now().toString(36)}`
const instances: Instance[] = []
try {
  instances.push(await startInstance(prefix), await startInstance(prefix))
  const atStart = await memories(instances)

  const began = Date.now()
  const burst = await submitAll(instances, CONCURRENT_SCANS, mixedScan, CONCURRENT_SCANS)
  const submitSeconds = (Date.now() - began) / 1000
  const burstDocs = await awaitAll(instances[0].url, burst)
  const drainSeconds = (Date.now() - began) / 1000
  check(burst, burstDocs)
  const times = [...burstDocs.values()].map((doc) => (Date.parse(doc.finished_at!) - Date.parse(doc.created_at)) / 1000).sort((a, b) => a - b)
  const afterBurst = await memories(instances)

  const smallBegan = Date.now()
  const rounds: string[] = []
  for (let round = 0; round < SMALL_ROUNDS; round++) {
    const small = await submitAll(instances, SMALL_SCANS / SMALL_ROUNDS, smallScan, SMALL_IN_FLIGHT)
    check(small, await awaitAll(instances[round % instances.length].url, small))
    rounds.push((await memories(instances)).map((m) => m.rss.toFixed(0)).join(' / '))
  }
  const smallSeconds = (Date.now() - smallBegan) / 1000
  const afterSmall = await memories(instances)
  const growth = afterSmall.map((value, i) => value.rss / afterBurst[i].rss - 1)

  const lines = [
    `parascan load (${QUICK ? 'quick' : 'full'}): 2 instances (1 worker thread, 2 scans at a time each) on one Redis, node ${process.version}`,
    `${CONCURRENT_SCANS} mixed scans (10 / 1,000 / 20,000 records) submitted at once: all succeeded with the right counts`,
    `  submissions/s          ${(CONCURRENT_SCANS / submitSeconds).toFixed(0)} (${submitSeconds.toFixed(2)} s to accept all)`,
    `  time to finish         p50 ${percentile(times, 50).toFixed(2)} s, p99 ${percentile(times, 99).toFixed(2)} s (created → finished; all done in ${drainSeconds.toFixed(1)} s)`,
    `${SMALL_SCANS} small scans, ${SMALL_IN_FLIGHT} in flight: all succeeded, ${(SMALL_SCANS / smallSeconds).toFixed(0)} scans/s`,
    `  MiB after a full GC (instance 1 / 2): start ${show(atStart)}`,
    `    after the ${CONCURRENT_SCANS}: ${show(afterBurst)}; after ${SMALL_SCANS} more: ${show(afterSmall)}`,
    `  RSS MiB after each fifth of the small scans: ${rounds.join(', ')}`,
    `  RSS growth over the small scans: ${growth.map((g) => `${(g * 100).toFixed(1)}%`).join(' / ')} (bound: 20%)`
  ]
  process.stdout.write(lines.join('\n') + '\n')
  if (growth.some((g) => g > 0.2)) {
    process.stdout.write('RSS grew by more than 20%: a leak?\n')
    process.exitCode = 1
  }
} finally {
  for (const instance of instances) instance.child.kill('SIGTERM')
  await Promise.all(instances.map(async (instance) => await instance.exited))
  await dropPrefix(prefix)
}
