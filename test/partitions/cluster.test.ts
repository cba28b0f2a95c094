import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { Redis } from 'ioredis'
import { Queue } from 'bullmq'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { dropPrefix, http, REDIS_URL, tempDataDir, uniquePrefix, waitFor } from '../helpers/service-harness.js'
import { finished, heldPartition, partitionRuns, readAll, startInstance, type Instance } from '../helpers/cluster-harness.js'

const prefix = uniquePrefix()
const children: ChildProcess[] = []
const instances: Instance[] = []
const redis = new Redis(REDIS_URL)
const partitionQueue = new Queue('scan-partitions', { connection: redis, prefix })
const dataDir = tempDataDir()
const env = { REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_PARTITION_RECORDS: '1000', PARASCAN_PROGRESS_INTERVAL: '100ms', DATA_DIR: dataDir }

before(async () => {
  instances.push(...await Promise.all([0, 1, 2].map(async () => await startInstance(env, children))))
})

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await partitionQueue.close()
  await dropPrefix(prefix)
  redis.disconnect()
})

const runsOf = async (id: string): Promise<number[]> => await partitionRuns(redis, prefix, id)

const slow = (ms: number): unknown => ({ processor: 'sleep', params: { ms } })

test('three instances, more partitions than instances: exact ordered, unordered, capped and aggregated results; every instance takes partitions; delete drops every key', async () => {
  const [a, b, c] = instances
  const source = { type: 'range', start: 0, end: 24000 }
  const ordered = (await http(a.url, 'POST', '/v1/scans', { source, pipeline: [{ filter: 'record % 7 != 3' }, { map: 'record * 2' }, slow(0.05)], ordered: true })).json
  const unordered = (await http(b.url, 'POST', '/v1/scans', { source, pipeline: [{ filter: 'record % 7 != 3' }, slow(0.05)] })).json
  const capped = (await http(c.url, 'POST', '/v1/scans', { source, pipeline: [slow(0.05)], ordered: true, max_results: 12345 })).json
  const cappedUnordered = (await http(c.url, 'POST', '/v1/scans', { source, pipeline: [slow(0.05)], max_results: 12345 })).json
  const aggregate = (await http(a.url, 'POST', '/v1/scans', {
    source: { type: 'range', start: 0, end: 12000 },
    pipeline: [slow(0.05)],
    aggregate: { group_by: 'int(record) % 3', metrics: { n: { op: 'count' }, total: { op: 'sum', expr: 'record' }, high: { op: 'max', expr: 'record' }, mean: { op: 'avg', expr: 'record' } } }
  })).json

  const kept = Array.from({ length: 24000 }, (_, i) => i).filter((i) => i % 7 !== 3)
  const orderedDoc = await finished(b.url, ordered.id)
  assert.equal(orderedDoc.status, 'succeeded', JSON.stringify(orderedDoc.error))
  assert.deepEqual(orderedDoc.partitions, { total: 24, queued: 0, running: 0, succeeded: 24, rerun: 0 })
  assert.deepEqual(orderedDoc.progress.processed, 24000)
  assert.deepEqual(await readAll(c.url, ordered.id), kept.map((i) => i * 2))
  const ran = new Set(orderedDoc.metrics.workers.map((w: { instance: string }) => w.instance))
  assert.ok(ran.size >= 2, `partitions ran on ${[...ran].join(', ')}`)

  assert.equal((await finished(a.url, unordered.id)).status, 'succeeded')
  const items = await readAll(a.url, unordered.id, 1000) as number[]
  assert.equal(items.length, kept.length)
  assert.deepEqual([...items].sort((x, y) => x - y), kept)

  const cappedDoc = await finished(a.url, capped.id)
  assert.deepEqual(cappedDoc.result, { count: 12345, truncated: true, partial: false })
  assert.deepEqual(await readAll(a.url, capped.id, 5000), Array.from({ length: 12345 }, (_, i) => i))
  const cappedUnorderedDoc = await finished(a.url, cappedUnordered.id)
  assert.deepEqual(cappedUnorderedDoc.result, { count: 12345, truncated: true, partial: false })
  const some = await readAll(b.url, cappedUnordered.id, 5000) as number[]
  assert.equal(some.length, 12345)
  assert.equal(new Set(some).size, 12345)
  assert.ok(some.every((n) => Number.isInteger(n) && n >= 0 && n < 24000))

  const aggregateDoc = await finished(c.url, aggregate.id)
  assert.equal(aggregateDoc.status, 'succeeded', JSON.stringify(aggregateDoc.error))
  assert.equal(aggregateDoc.partitions.total, 12)
  const want = [0, 1, 2].map((g) => {
    const members = Array.from({ length: 4000 }, (_, i) => i * 3 + g)
    const total = members.reduce((x, y) => x + y, 0)
    return { group: g, n: 4000, total, high: members[members.length - 1], mean: total / 4000 }
  })
  assert.deepEqual(await readAll(b.url, aggregate.id), want)

  const jobs = (await partitionQueue.getJobs(['completed'])).filter((job) => job.data.id === ordered.id)
  assert.equal(jobs.length, 24)
  for (const job of jobs) {
    assert.equal(job.name, `scan ${ordered.id} partition ${job.data.part + 1}/24 records ${job.data.start}-${job.data.end}`)
    assert.equal(job.progress, 100)
  }

  for (const id of [ordered.id, unordered.id]) {
    assert.ok((await redis.keys(`${prefix}:scan:{${id}}*`)).length > 3)
    assert.ok((await redis.pttl(`${prefix}:scan:{${id}}:part:0`)) > 0, 'retention covers the partition pages')
    assert.equal((await http(a.url, 'DELETE', `/v1/scans/${id}`)).status, 204)
    assert.deepEqual(await redis.keys(`${prefix}:scan:{${id}}*`), [])
  }
})

test('a file source on a volume every instance mounts: partitions read their own records, offsets are the file\'s', async () => {
  const [a, b] = instances
  writeFileSync(join(dataDir, 'events.ndjson'), Array.from({ length: 7000 }, (_, i) => JSON.stringify({ n: i, kind: i % 5 === 0 ? 'x' : 'y' })).join('\n') + '\n')
  const scan = (await http(a.url, 'POST', '/v1/scans', {
    source: { type: 'file', path: 'events.ndjson', format: 'ndjson' },
    pipeline: [{ filter: 'record.kind == "x"' }, { map: 'record.n' }, slow(0.05)],
    ordered: true
  })).json
  const doc = await finished(b.url, scan.id)
  assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
  assert.equal(doc.partitions.total, 7)
  assert.deepEqual(await readAll(b.url, scan.id), Array.from({ length: 1400 }, (_, i) => i * 5))
})

test('a cancel sent to another instance stops every running partition within about a second and drops the queued ones', async () => {
  const [a, b] = instances
  const scan = (await http(a.url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 30000 }, pipeline: [slow(1)] })).json
  await waitFor(async () => {
    const doc = (await http(a.url, 'GET', `/v1/scans/${scan.id}`)).json
    return doc.partitions?.running === 3 ? doc : undefined
  }, 20_000, 50)
  const cancelledAt = Date.now()
  const response = await http(b.url, 'POST', `/v1/scans/${scan.id}/cancel`)
  assert.equal(response.status, 202)
  const doc = await finished(a.url, scan.id, 10_000)
  assert.equal(doc.status, 'cancelled')
  assert.ok(Date.now() - cancelledAt < 5000, `cancelled after ${Date.now() - cancelledAt} ms`)
  assert.equal(doc.partitions.running, 0)
  assert.ok(doc.partitions.succeeded < 30)
  const waiting = await partitionQueue.getJobs(['waiting', 'active', 'delayed'])
  assert.deepEqual(waiting.filter((job) => job.data.id === scan.id).map((job) => job.id), [])
})

test('kill -9 of one instance mid-scan: only the partition it was running runs again, elsewhere, and the results are exact', async () => {
  const [a, b, doomed] = instances
  const scan = (await http(a.url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 15000 }, pipeline: [slow(0.6)], ordered: true })).json
  // Kill while the doomed instance is early in a partition, so that it cannot commit it first.
  const victim = (await heldPartition(partitionQueue, redis, prefix, scan.id, doomed.pid, 0, 400)).data.part as number
  const committedBefore = (await runsOf(scan.id)).length
  doomed.child.kill('SIGKILL')
  await doomed.exited
  const killedAt = Date.now()
  const resumed = await waitFor(async () => (await runsOf(scan.id))[victim] === 2 ? Date.now() : undefined, 20_000, 50)
  assert.ok(resumed - killedAt <= 10_000, `the lost partition ran again after ${resumed - killedAt} ms`)
  const doc = await finished(b.url, scan.id)
  assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
  assert.equal(doc.partitions.rerun, 1)
  const runs = await runsOf(scan.id)
  assert.deepEqual(runs.map((n, part) => n > 1 ? part : -1).filter((part) => part >= 0), [victim])
  assert.ok(committedBefore > 0)
  assert.equal(doc.progress.processed, 15000)
  assert.deepEqual(await readAll(a.url, scan.id, 4000), Array.from({ length: 15000 }, (_, i) => i))
})

test('SIGTERM hands back only the unfinished partition and exits 0; the scan ends exactly', async () => {
  const [a, b] = instances
  const leaving = await startInstance({ ...env, SHUTDOWN_GRACE: '100ms' }, children)
  const scan = (await http(a.url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 15000 }, pipeline: [slow(0.6)] })).json
  const part = (await heldPartition(partitionQueue, redis, prefix, scan.id, leaving.pid, 0, 400)).data.part as number
  leaving.child.kill('SIGTERM')
  assert.equal(await leaving.exited, 0)
  const doc = await finished(b.url, scan.id)
  assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
  const runs = await runsOf(scan.id)
  assert.deepEqual(runs.map((n, i) => n > 1 ? i : -1).filter((i) => i >= 0), [part])
  assert.equal(doc.partitions.rerun, 1)
  const items = await readAll(a.url, scan.id, 4000) as number[]
  assert.deepEqual([...items].sort((x, y) => x - y), Array.from({ length: 15000 }, (_, i) => i))
})
