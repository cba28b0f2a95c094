import { readFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import type { ChildProcess } from 'node:child_process'
import { Redis } from 'ioredis'
import { Queue } from 'bullmq'
import { dropPrefix, http, REDIS_URL, waitFor } from '../test/helpers/service-harness.js'
import { finished, heldPartition, lockExpiry, partitionFields, processedOf, stalledMoves, startInstance, type Instance } from '../test/helpers/cluster-harness.js'

const RECORDS = Number(process.env.BENCH_RECORDS ?? 400_000)
const COST_US = Number(process.env.BENCH_COST_US ?? 20)
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 16)
const REPEAT = Number(process.env.BENCH_REPEAT ?? 1)
const FAILOVERS = Number(process.env.BENCH_FAILOVERS ?? 5)
const prefix = `parascan-bench-cluster-${process.pid}-${Date.now().toString(36)}`
const children: ChildProcess[] = []
const redis = new Redis(REDIS_URL)
const partitionQueue = new Queue('scan-partitions', { connection: redis, prefix })
const scan = {
  source: { type: 'range', start: 0, end: RECORDS },
  pipeline: [{ processor: 'synthetic', params: { cost_us: COST_US } }, { filter: 'false' }],
  partitions: PARTITIONS
}
const env = { REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_PROGRESS_INTERVAL: '100ms' }

/** User + system CPU seconds of a process so far (Linux /proc). */
function cpuSeconds (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

interface Timing { wallS: number, cpuS: number }
interface Failover { lockS: number, detectS: number, begunS: number, movingS: number, redone: number }

async function timedScan (entry: Instance, instances: Instance[], body: object = scan): Promise<Timing> {
  const cpuBefore = instances.reduce((sum, i) => sum + cpuSeconds(i.pid), 0)
  const began = performance.now()
  const { json } = await http(entry.url, 'POST', '/v1/scans', body)
  const doc = await finished(entry.url, json.id, 600_000)
  if (doc.status !== 'succeeded') throw new Error(`scan ${doc.status}: ${JSON.stringify(doc.error)}`)
  const wallS = (performance.now() - began) / 1000
  return { wallS, cpuS: instances.reduce((sum, i) => sum + cpuSeconds(i.pid), 0) - cpuBefore }
}

try {
  const one = await startInstance({ ...env, PROTO_PARALLEL_MAX_WORKERS: '1' }, children)
  const oneJob = await timedScan(one, [one], { ...scan, partitions: 1 })
  const singles: Timing[] = []
  const pairs: Timing[] = []
  let two: Instance | undefined
  for (let i = 0; i < REPEAT; i++) {
    if (two !== undefined) {
      two.child.kill('SIGTERM')
      await two.exited
    }
    singles.push(await timedScan(one, [one]))
    two = await startInstance({ ...env, PROTO_PARALLEL_MAX_WORKERS: '1' }, children)
    pairs.push(await timedScan(one, [one, two]))
  }
  if (two === undefined) throw new Error('BENCH_REPEAT must be at least 1')
  if (FAILOVERS < 1) throw new Error('BENCH_FAILOVERS must be at least 1')
  const best = (runs: Timing[]): Timing => runs.reduce((a, b) => a.wallS <= b.wallS ? a : b)
  const single = best(singles)
  const pair = best(pairs)

  // Failover, several times: kill the second instance 30-60 % through a partition; time until that
  // partition's lock expired, until BullMQ's stalled check moved it back to wait (detection), until it
  // began again on the first instance and until its progress moved (restart); then start a new second.
  const size = RECORDS / PARTITIONS
  const trials: Failover[] = []
  let lastScan = ''
  for (let trial = 0; trial < FAILOVERS; trial++) {
    if (trial > 0) two = await startInstance({ ...env, PROTO_PARALLEL_MAX_WORKERS: '1' }, children)
    const doomed = two
    const { json: failing } = await http(one.url, 'POST', '/v1/scans', scan)
    const job = await heldPartition(partitionQueue, redis, prefix, failing.id, doomed.pid, size * 0.3, size * 0.6, 120_000)
    const victim = job.data.part as number
    doomed.child.kill('SIGKILL')
    const killedAt = Date.now()
    await doomed.exited
    const expiresAt = await lockExpiry(redis, prefix, job.id!) ?? killedAt
    const redone = processedOf(await partitionFields(redis, prefix, failing.id), victim)
    const [movedAt] = await waitFor(async () => { const moves = await stalledMoves(redis, prefix, job.id!, killedAt - 60_000); return moves.length > 0 ? moves : undefined }, 60_000, 10)
    const begunAt = await waitFor(async () => Number((await partitionFields(redis, prefix, failing.id))[`${victim}:n`]) >= 2 ? Date.now() : undefined, 60_000, 10)
    const movingAt = await waitFor(async () => {
      const fields = await partitionFields(redis, prefix, failing.id)
      return Number(fields[`${victim}:n`]) >= 2 && processedOf(fields, victim) > 0 ? Date.now() : undefined
    }, 60_000, 10)
    const doc = await finished(one.url, failing.id, 600_000)
    lastScan = `${doc.status as string}, processed ${doc.progress.processed as number}, partitions ${JSON.stringify(doc.partitions)}`
    if (doc.status !== 'succeeded' || doc.progress.processed !== RECORDS) throw new Error(`scan after failover: ${lastScan}`)
    trials.push({ lockS: (expiresAt - killedAt) / 1000, detectS: (movedAt - killedAt) / 1000, begunS: (begunAt - movedAt) / 1000, movingS: (movingAt - killedAt) / 1000, redone })
  }
  const seconds = (pick: (f: Failover) => number): string => {
    const values = trials.map(pick)
    return `max ${Math.max(...values).toFixed(2)} s (${values.map((v) => v.toFixed(2)).join(', ')})`
  }
  const rows = [
    `bench:cluster  ${new Date().toISOString()}  Node ${process.version}  ${cpus().length} cores  load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    `scan: ${RECORDS} records, synthetic ${COST_US} µs/record, ${PARTITIONS} partitions, 1 worker thread per instance`,
    `1 instance, one job (partitions: 1): ${oneJob.wallS.toFixed(2)} s wall, ${oneJob.cpuS.toFixed(2)} s CPU`,
    `1 instance : ${single.wallS.toFixed(2)} s wall, ${single.cpuS.toFixed(2)} s CPU (instances)${REPEAT > 1 ? `, best of ${REPEAT}: ${singles.map((t) => t.wallS.toFixed(2)).join(' ')}` : ''}`,
    `2 instances: ${pair.wallS.toFixed(2)} s wall, ${pair.cpuS.toFixed(2)} s CPU (instances)${REPEAT > 1 ? `, best of ${REPEAT}: ${pairs.map((t) => t.wallS.toFixed(2)).join(' ')}` : ''}`,
    `speed-up   : ${(single.wallS / pair.wallS).toFixed(2)}x`,
    `failover   : ${FAILOVERS} SIGKILLs of the second instance 30-60 % through a partition (PARASCAN_PARTITION_LOCK_DURATION ${process.env.PARASCAN_PARTITION_LOCK_DURATION ?? '4s, the default'}; stalled check every quarter of it)`,
    `  lock left at the kill           : ${seconds((f) => f.lockS)}`,
    `  detection (kill to moved back)  : ${seconds((f) => f.detectS)}`,
    `  restart (moved back to begun)   : ${seconds((f) => f.begunS)}`,
    `  kill to progress moving again   : ${seconds((f) => f.movingS)}`,
    `redone     : records processed twice (last progress of the lost attempt): max ${Math.max(...trials.map((f) => f.redone))} (${trials.map((f) => f.redone).join(', ')}), ` +
      `${(100 * Math.max(...trials.map((f) => f.redone)) / RECORDS).toFixed(1)} % of the scan at most; ideal: the lost partition's processed records (${size} at most); a one-job scan redoes every record processed before the kill`,
    `last scan after failover: ${lastScan}`
  ]
  process.stdout.write(`${rows.join('\n')}\n`)
} finally {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await partitionQueue.close()
  await dropPrefix(prefix)
  redis.disconnect()
}
