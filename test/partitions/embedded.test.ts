import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import type { RunningServer } from '../../src/server.js'
import { http, realServer, waitFor } from '../helpers/service-harness.js'
import { finished, PROCESSORS_DIR, readAll } from '../helpers/cluster-harness.js'

const servers: RunningServer[] = []
after(async () => { await Promise.allSettled(servers.map(async (server) => await server.close())) })

test('embedded: a scan over PARASCAN_PARTITION_RECORDS runs as partitions through the in-process queue, ordered, unordered, capped and aggregated', async () => {
  const server = await realServer({ PARASCAN_PARTITION_RECORDS: '2500', PARASCAN_CONCURRENCY: '2' })
  servers.push(server)
  const base = server.url
  const source = { type: 'range', start: 0, end: 20000 }

  const ordered = (await http(base, 'POST', '/v1/scans', { source, pipeline: [{ filter: 'record % 3 == 0' }], ordered: true })).json
  const doc = await finished(base, ordered.id)
  assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
  assert.deepEqual(doc.partitions, { total: 8, queued: 0, running: 0, succeeded: 8, rerun: 0 })
  assert.equal(doc.progress.processed, 20000)
  const expected = Array.from({ length: 20000 }, (_, i) => i).filter((i) => i % 3 === 0)
  assert.deepEqual(doc.result, { count: expected.length, truncated: false, partial: false })
  assert.deepEqual(await readAll(base, ordered.id), expected)

  const unordered = (await http(base, 'POST', '/v1/scans', { source, pipeline: [{ map: 'record * 2' }] })).json
  assert.equal((await finished(base, unordered.id)).status, 'succeeded')
  const items = await readAll(base, unordered.id, 1000) as number[]
  assert.deepEqual([...items].sort((a, b) => a - b), Array.from({ length: 20000 }, (_, i) => i * 2))

  const cappedOrdered = (await http(base, 'POST', '/v1/scans', { source, ordered: true, max_results: 6001 })).json
  const cappedDoc = await finished(base, cappedOrdered.id)
  assert.deepEqual(cappedDoc.result, { count: 6001, truncated: true, partial: false })
  assert.deepEqual(await readAll(base, cappedOrdered.id), Array.from({ length: 6001 }, (_, i) => i))

  const cappedUnordered = (await http(base, 'POST', '/v1/scans', { source, max_results: 6001, partitions: 5 })).json
  const cappedUnorderedDoc = await finished(base, cappedUnordered.id)
  assert.equal(cappedUnorderedDoc.partitions.total, 5)
  assert.deepEqual(cappedUnorderedDoc.result, { count: 6001, truncated: true, partial: false })
  const some = await readAll(base, cappedUnordered.id) as number[]
  assert.equal(some.length, 6001)
  assert.equal(new Set(some).size, 6001)

  const aggregate = (await http(base, 'POST', '/v1/scans', {
    source,
    aggregate: { group_by: 'record % 4', metrics: { n: { op: 'count' }, total: { op: 'sum', expr: 'record' }, low: { op: 'min', expr: 'record' }, mean: { op: 'avg', expr: 'record' } } }
  })).json
  const aggregateDoc = await finished(base, aggregate.id)
  assert.equal(aggregateDoc.status, 'succeeded', JSON.stringify(aggregateDoc.error))
  const rows = await readAll(base, aggregate.id)
  const want = [0, 1, 2, 3].map((g) => {
    const members = Array.from({ length: 5000 }, (_, i) => i * 4 + g)
    const sum = members.reduce((a, b) => a + b, 0)
    return { group: g, n: 5000, total: sum, low: g, mean: sum / 5000 }
  })
  assert.deepEqual(rows, want)
  assert.ok(aggregateDoc.metrics.workers.every((w: any) => typeof w.instance === 'string'))

  const tooMany = await http(base, 'POST', '/v1/scans', { source, partitions: 1001 })
  assert.equal(tooMany.status, 400)
  assert.equal(tooMany.json.errors[0].path, 'partitions')
  assert.match(tooMany.json.errors[0].message, /PARASCAN_MAX_PARTITIONS/)

  const single = (await http(base, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 2500 } })).json
  const singleDoc = await finished(base, single.id)
  assert.equal(singleDoc.partitions, undefined, 'at the threshold the scan stays one job')
})

test('embedded: a failing record fails the partitioned scan with its offset in the source; skip samples errors across partitions', async () => {
  const server = await realServer({ PARASCAN_PARTITION_RECORDS: '1000' })
  servers.push(server)
  const base = server.url
  const source = { type: 'range', start: 0, end: 5000 }
  const failing = (await http(base, 'POST', '/v1/scans', { source, pipeline: [{ map: 'record == 3456 ? record / 0 : record' }] })).json
  const doc = await finished(base, failing.id)
  assert.equal(doc.status, 'failed')
  assert.equal(doc.error.offset, 3456, JSON.stringify(doc.error))
  assert.match(doc.error.message, /3456/)

  const skipping = (await http(base, 'POST', '/v1/scans', { source, on_error: 'skip', pipeline: [{ map: 'record % 1000 == 7 ? record / 0 : record' }] })).json
  const skipped = await finished(base, skipping.id)
  assert.equal(skipped.status, 'succeeded', JSON.stringify(skipped.error))
  assert.equal(skipped.progress.skipped, 5)
  assert.deepEqual(skipped.errors.map((e: any) => e.offset), [7, 1007, 2007, 3007, 4007])
})

test('embedded: a partitioned scan is cancelled with its queued partitions dropped, and times out as a whole', async () => {
  const server = await realServer({ PARASCAN_PARTITION_RECORDS: '100', PROCESSORS_DIR, PARASCAN_PROGRESS_INTERVAL: '50ms' })
  servers.push(server)
  const base = server.url
  const slow = { processor: 'sleep', params: { ms: 2 } }
  const scan = (await http(base, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 3000 }, pipeline: [slow] })).json
  await waitFor(async () => {
    const doc = (await http(base, 'GET', `/v1/scans/${scan.id}`)).json
    return doc.partitions?.succeeded >= 1 ? doc : undefined
  }, 20_000, 20)
  assert.equal((await http(base, 'POST', `/v1/scans/${scan.id}/cancel`)).status, 202)
  const cancelled = await finished(base, scan.id, 5000)
  assert.equal(cancelled.status, 'cancelled')
  assert.ok(cancelled.partitions.succeeded < 30)
  assert.ok(cancelled.progress.processed < 3000)

  const timed = (await http(base, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 3000 }, pipeline: [slow], timeout_seconds: 0.5 })).json
  const doc = await finished(base, timed.id, 10_000)
  assert.equal(doc.status, 'failed')
  assert.equal(doc.error.code, 'PARASCAN_SCAN_TIMEOUT')

  const after = (await http(base, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 1000 }, ordered: true })).json
  const ok = await finished(base, after.id)
  assert.equal(ok.status, 'succeeded')
  assert.deepEqual(await readAll(base, after.id), Array.from({ length: 1000 }, (_, i) => i))
})
