import { readFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import type { ChildProcess } from 'node:child_process'
import { Redis } from 'ioredis'
import { Queue } from 'bullmq'
import { dropPrefix, http, REDIS_URL, waitFor } from '../test/helpers/service-harness.js'
import { finished, startInstance, type Instance } from '../test/helpers/cluster-harness.js'

const RECORDS = Number(process.env.BENCH_RECORDS ?? 400_000)
const COST_US = Number(process.env.BENCH_COST_US ?? 20)
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 16)
const REPEAT = Number(process.env.BENCH_REPEAT ?? 1)
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

async function timedScan (entry: Instance, instances: Instance[], body: object = scan): Promise<Timing> {
  const cpuBefore = instances.reduce((sum, i) => sum + cpuSeconds(i.pid), 0)
  const began = performance.now()
  const { json } = await http(entry.url, 'POST', '/v1/scans', body)
  const doc = await finished(entry.url, json.id, 600_000)
  if (doc.status !== 'succeeded') throw new Error(`scan ${doc.status}: ${JSON.stringify(doc.error)}`)
  const wallS = (performance.now() - began) / 1000
  return { wallS, cpuS: instances.reduce((sum, i) => sum + cpuSeconds(i.pid), 0) - cpuBefore }
}

async function partitionRuns (id: string): Promise<Record<string, string>> {
  return await redis.hgetall(`${prefix}:scan:{${id}}:parts`)
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
  const best = (runs: Timing[]): Timing => runs.reduce((a, b) => a.wallS <= b.wallS ? a : b)
  const single = best(singles)
  const pair = best(pairs)

  // Failover: kill the second instance early in a partition, time until that partition runs again on the first.
  const { json: failing } = await http(one.url, 'POST', '/v1/scans', scan)
  const size = RECORDS / PARTITIONS
  const victim = await waitFor(async () => {
    const active = await partitionQueue.getJobs(['active'])
    const job = active.find((j) => j.data.id === failing.id && j.processedBy?.endsWith(`:${two.pid}`))
    if (job === undefined) return undefined
    const processed = Number(((await partitionRuns(failing.id))[`${job.data.part}:p`] ?? '0').split(',')[0])
    return processed > size * 0.3 && processed < size * 0.6 ? job.data.part as number : undefined
  }, 120_000, 20)
  two.child.kill('SIGKILL')
  const killedAt = performance.now()
  await two.exited
  const lostProcessed = Number(((await partitionRuns(failing.id))[`${victim}:p`] ?? '0').split(',')[0])
  const resumedAt = await waitFor(async () => {
    const parts = await partitionRuns(failing.id)
    return Number(parts[`${victim}:n`]) >= 2 && Number((parts[`${victim}:p`] ?? '0').split(',')[0]) > 0 ? performance.now() : undefined
  }, 60_000, 20)
  const doc = await finished(one.url, failing.id, 600_000)
  const rows = [
    `bench:cluster  ${new Date().toISOString()}  Node ${process.version}  ${cpus().length} cores  load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    `scan: ${RECORDS} records, synthetic ${COST_US} µs/record, ${PARTITIONS} partitions, 1 worker thread per instance`,
    `1 instance, one job (partitions: 1): ${oneJob.wallS.toFixed(2)} s wall, ${oneJob.cpuS.toFixed(2)} s CPU`,
    `1 instance : ${single.wallS.toFixed(2)} s wall, ${single.cpuS.toFixed(2)} s CPU (instances)${REPEAT > 1 ? `, best of ${REPEAT}: ${singles.map((t) => t.wallS.toFixed(2)).join(' ')}` : ''}`,
    `2 instances: ${pair.wallS.toFixed(2)} s wall, ${pair.cpuS.toFixed(2)} s CPU (instances)${REPEAT > 1 ? `, best of ${REPEAT}: ${pairs.map((t) => t.wallS.toFixed(2)).join(' ')}` : ''}`,
    `speed-up   : ${(single.wallS / pair.wallS).toFixed(2)}x`,
    `failover   : SIGKILL to the lost partition running again on the other instance ${((resumedAt - killedAt) / 1000).toFixed(2)} s (PARASCAN_PARTITION_LOCK_DURATION default 4s)`,
    `redone     : ${lostProcessed} records processed twice (last progress of the lost partition, ${(100 * lostProcessed / RECORDS).toFixed(1)} % of the scan); ` +
      `ideal: the lost partition's processed records (${size} at most); a one-job scan redoes every record processed before the kill`,
    `scan after failover: ${doc.status}, processed ${doc.progress.processed}, partitions ${JSON.stringify(doc.partitions)}`
  ]
  process.stdout.write(`${rows.join('\n')}\n`)
} finally {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await partitionQueue.close()
  await dropPrefix(prefix)
  redis.disconnect()
}
