import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import type { RunningServer } from '../../src/server.js'
import { http, realServer } from '../helpers/service-harness.js'
import { finished, readAll } from '../helpers/cluster-harness.js'

const servers: RunningServer[] = []
after(async () => { await Promise.allSettled(servers.map(async (server) => await server.close())) })

test('partitions at and past its limits: 0, negative, fractional, a string, over PARASCAN_MAX_PARTITIONS are 400s naming the field; more partitions than records and empty ranges run exactly', async () => {
  const server = await realServer({ PARASCAN_MAX_PARTITIONS: '50' })
  servers.push(server)
  const base = server.url
  const range = { type: 'range', start: 0, end: 100 }
  for (const partitions of [0, -1, 1.5, '2', 51, 1e300, null]) {
    const { status, json } = await http(base, 'POST', '/v1/scans', { source: range, partitions })
    assert.equal(status, 400, `partitions ${String(partitions)}: ${JSON.stringify(json)}`)
    assert.deepEqual(json.errors.map((e: { path: string }) => e.path), ['partitions'])
  }
  const run = async (body: object): Promise<{ doc: Awaited<ReturnType<typeof finished>>, items: unknown[] }> => {
    const { status, json } = await http(base, 'POST', '/v1/scans', body)
    assert.equal(status, 202, JSON.stringify(json))
    const doc = await finished(base, json.id)
    assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
    return { doc, items: await readAll(base, json.id, 7) }
  }
  const most = await run({ source: range, partitions: 50, ordered: true })
  assert.equal(most.doc.partitions.total, 50)
  assert.deepEqual(most.items, Array.from({ length: 100 }, (_, i) => i))
  const one = await run({ source: range, partitions: 1, ordered: true })
  assert.equal(one.doc.partitions, undefined, 'one partition is a one-job scan')
  assert.deepEqual(one.items, Array.from({ length: 100 }, (_, i) => i))
  const more = await run({ source: { type: 'range', start: 10, end: 13 }, partitions: 40, ordered: true })
  assert.equal(more.doc.partitions.total, 3, 'no more partitions than records')
  assert.deepEqual(more.items, [10, 11, 12])
  for (const source of [{ type: 'range', start: 5, end: 5 }, { type: 'inline', records: [] }]) {
    const empty = await run({ source, partitions: 20 })
    assert.equal(empty.doc.partitions, undefined)
    assert.deepEqual(empty.doc.result, { count: 0, truncated: false, partial: false })
    assert.deepEqual(empty.items, [])
  }
  const cappedBelowFirst = await run({ source: range, partitions: 10, ordered: true, max_results: 3 })
  assert.deepEqual(cappedBelowFirst.items, [0, 1, 2])
  assert.deepEqual(cappedBelowFirst.doc.result, { count: 3, truncated: true, partial: false })
  const none = await run({ source: range, partitions: 10, max_results: 0 })
  assert.deepEqual(none.items, [])
  assert.deepEqual(none.doc.result, { count: 0, truncated: true, partial: false })
})
