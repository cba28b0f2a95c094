import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import type { RunningServer } from '../../src/server.js'
import { dropPrefix, http, realServer, REDIS_URL, uniquePrefix, waitFor } from '../helpers/service-harness.js'

const prefixes: string[] = []
const servers: RunningServer[] = []

after(async () => {
  await Promise.allSettled(servers.map(async (server) => await server.close()))
  for (const prefix of prefixes) await dropPrefix(prefix)
})

async function instance (prefix: string, env: Record<string, string> = {}): Promise<RunningServer> {
  const server = await realServer({ REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_PROGRESS_INTERVAL: '100ms', ...env })
  servers.push(server)
  return server
}

function freshPrefix (): string {
  const prefix = uniquePrefix()
  prefixes.push(prefix)
  return prefix
}

async function finished (base: string, id: string, timeoutMs = 20_000): Promise<any> {
  return await waitFor(async () => {
    const { json } = await http(base, 'GET', `/v1/scans/${id}`)
    return ['succeeded', 'failed', 'cancelled'].includes(json.status) ? json : undefined
  }, timeoutMs)
}

async function readAll (base: string, id: string, limit: number, start?: string): Promise<unknown[]> {
  const items: unknown[] = []
  let cursor = start
  for (;;) {
    const { status, json } = await http(base, 'GET', `/v1/scans/${id}/results?limit=${limit}${cursor === undefined ? '' : `&cursor=${cursor}`}`)
    assert.equal(status, 200, JSON.stringify(json))
    items.push(...json.items)
    if (json.complete) return items
    cursor = json.next_cursor
    if (json.items.length === 0) await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const slowScan = (end: number, costUs: number) => ({
  source: { type: 'range', start: 0, end },
  pipeline: [{ map: 'record * 3' }, { processor: 'synthetic', params: { cost_us: costUs } }],
  ordered: true
})

test('seed example on Redis, read through another instance, paging while running', async () => {
  const prefix = freshPrefix()
  const a = await instance(prefix)
  const b = await instance(prefix)
  const { status, json, headers } = await http(a.url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 100000 }, pipeline: [{ filter: 'record % 2 == 0' }, { map: 'record * 2' }] })
  assert.equal(status, 202)
  assert.equal(headers.get('location'), `/v1/scans/${json.id}`)
  const items = await readAll(b.url, json.id, 3000)
  assert.equal(items.length, 50000)
  assert.equal(new Set(items).size, 50000)
  assert.equal((items as number[]).reduce((sum, x) => sum + x, 0), 2 * (49999 * 50000))
  const doc = await finished(b.url, json.id)
  assert.equal(doc.status, 'succeeded')
  assert.deepEqual(doc.result, { count: 50000, truncated: false, partial: false })
  assert.equal(doc.metrics.workers.length, 2)

  const slow = (await http(b.url, 'POST', '/v1/scans', slowScan(20000, 60))).json
  const firstPage = await waitFor(async () => {
    const page = (await http(a.url, 'GET', `/v1/scans/${slow.id}/results?limit=500`)).json
    return page.items.length > 0 ? page : undefined
  })
  assert.equal(firstPage.complete, false)
  const running = (await http(a.url, 'GET', `/v1/scans/${slow.id}`))
  assert.equal(running.headers.get('retry-after'), '1')
  const rest = await readAll(a.url, slow.id, 4000, firstPage.next_cursor)
  assert.deepEqual([...firstPage.items, ...rest], Array.from({ length: 20000 }, (_, i) => i * 3))
})

test('idempotency and cancel across instances; delete; retention on Redis', async () => {
  const prefix = freshPrefix()
  const a = await instance(prefix, { RETENTION: '1s' })
  const b = await instance(prefix, { RETENTION: '1s' })
  const body = slowScan(400000, 40)
  const key = { 'idempotency-key': `k-${Math.random()}` }
  const first = await http(a.url, 'POST', '/v1/scans', body, key)
  const again = await http(b.url, 'POST', '/v1/scans', { ...body }, key)
  assert.equal(again.status, 202)
  assert.equal(again.json.id, first.json.id)
  assert.equal((await http(b.url, 'POST', '/v1/scans', { ...body, ordered: false }, key)).status, 422)

  const id = first.json.id
  await waitFor(async () => (await http(a.url, 'GET', `/v1/scans/${id}`)).json.progress.processed > 0 ? true : undefined)
  const activeOn = async (server: RunningServer): Promise<number> => {
    const text = await (await fetch(`${server.url}/metrics`)).text()
    return Number(/^parascan_active_scans (\d+)/m.exec(text)?.[1])
  }
  const [runsOnA, runsOnB] = [await activeOn(a), await activeOn(b)]
  assert.equal(runsOnA + runsOnB, 1)
  const other = runsOnA === 1 ? b : a
  assert.equal((await http(other.url, 'DELETE', `/v1/scans/${id}`)).status, 409)
  const cancel = await http(other.url, 'POST', `/v1/scans/${id}/cancel`)
  assert.equal(cancel.status, 202)
  const doc = await finished(a.url, id, 5000)
  assert.equal(doc.status, 'cancelled')
  assert.ok(doc.progress.processed < 400000)
  assert.equal((await http(b.url, 'POST', `/v1/scans/${id}/cancel`)).status, 409)

  const queuedFirst = await http(a.url, 'POST', '/v1/scans', slowScan(10, 0))
  assert.equal((await finished(b.url, queuedFirst.json.id)).status, 'succeeded')
  assert.equal((await http(b.url, 'DELETE', `/v1/scans/${queuedFirst.json.id}`)).status, 204)
  assert.equal((await http(a.url, 'GET', `/v1/scans/${queuedFirst.json.id}`)).status, 404)

  const expiring = await http(a.url, 'POST', '/v1/scans', slowScan(10, 0))
  const done = await finished(b.url, expiring.json.id)
  assert.equal(Date.parse(done.expires_at) - Date.parse(done.finished_at), 1000)
  assert.equal((await http(a.url, 'GET', `/v1/scans/${expiring.json.id}/results`)).status, 200)
  await waitFor(async () => (await http(b.url, 'GET', `/v1/scans/${expiring.json.id}`)).status === 404 ? true : undefined, 5000, 100)
  const list = (await http(a.url, 'GET', '/v1/scans?limit=100')).json
  assert.ok(list.items.every((item: { id: string }) => item.id !== expiring.json.id))
})

test('two instances share the queue', async () => {
  const prefix = freshPrefix()
  const a = await instance(prefix)
  const b = await instance(prefix)
  const ids: string[] = []
  for (let i = 0; i < 6; i++) ids.push((await http(i % 2 === 0 ? a.url : b.url, 'POST', '/v1/scans', slowScan(3000, 100))).json.id)
  for (const id of ids) assert.equal((await finished(a.url, id)).status, 'succeeded')
  const finishedBy = async (server: RunningServer): Promise<number> => {
    const text = await (await fetch(`${server.url}/metrics`)).text()
    return Number(/^parascan_scans_total\{outcome="succeeded"\} (\d+)/m.exec(text)?.[1] ?? 0)
  }
  const [onA, onB] = [await finishedBy(a), await finishedBy(b)]
  assert.equal(onA + onB, 6)
  assert.ok(onA > 0 && onB > 0, `a ran ${onA}, b ran ${onB}`)
  const list = (await http(b.url, 'GET', '/v1/scans?status=succeeded&limit=3')).json
  assert.deepEqual(list.items.map((item: { id: string }) => item.id), [...ids].reverse().slice(0, 3))
  const next = (await http(b.url, 'GET', `/v1/scans?status=succeeded&limit=3&cursor=${list.next_cursor}`)).json
  assert.deepEqual(next.items.map((item: { id: string }) => item.id), [...ids].reverse().slice(3))
})
