import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Redis } from 'ioredis'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { RedisScanStore } from '../../src/store/redis-scan-store.js'
import { PrivateRedis } from '../helpers/private-redis.js'
import { tempDataDir, waitFor } from '../helpers/service-harness.js'

// A Redis of this file's own, so that INFO commandstats counts the commands of one reader only.
let server: PrivateRedis
let url: string
let admin: Redis
let writer: FastifyInstance
let reader: FastifyInstance
const ids: Record<string, string> = {}

const kept = (n: number): number[] => Array.from({ length: n }, (_, i) => i).filter((i) => i % 50 < 10)
const scans: Record<string, object> = {
  ordered40: { source: { type: 'range', start: 0, end: 200 }, partitions: 40, ordered: true },
  ordered200: { source: { type: 'range', start: 0, end: 1000 }, partitions: 200, ordered: true },
  capped: { source: { type: 'range', start: 0, end: 1000 }, partitions: 200, ordered: true, max_results: 33 },
  tiny: { source: { type: 'range', start: 0, end: 1000 }, partitions: 200, ordered: true, max_results: 3 },
  unordered: { source: { type: 'range', start: 0, end: 1000 }, partitions: 200 },
  unorderedCapped: { source: { type: 'range', start: 0, end: 1000 }, partitions: 200, max_results: 33 },
  wide: { source: { type: 'range', start: 0, end: 300 }, partitions: 3, ordered: true, pipeline: [{ map: `string(record) + "${'y'.repeat(500)}"` }] }
}
const MAX_PAGE_BYTES = 10_000

before(async () => {
  server = await PrivateRedis.start({ aof: false })
  url = server.url
  admin = new Redis(url)
  const env = { LOG_LEVEL: 'silent', DATA_DIR: tempDataDir(), PROTO_PARALLEL_MAX_WORKERS: '1', REDIS_URL: url, PARASCAN_PROGRESS_INTERVAL: '100ms', PARASCAN_MAX_PAGE_BYTES: String(MAX_PAGE_BYTES) }
  writer = await buildApp({ env })
  for (const [name, body] of Object.entries(scans)) {
    const response = await writer.inject({ method: 'POST', url: '/v1/scans', payload: { pipeline: [{ filter: 'record % 50 < 10' }], ...body } })
    assert.equal(response.statusCode, 202, response.body)
    ids[name] = response.json().id
  }
  for (const id of Object.values(ids)) {
    await waitFor(async () => {
      const doc = (await writer.inject({ url: `/v1/scans/${id}` })).json()
      return doc.status === 'succeeded' ? true : undefined
    }, 240_000, 200)
  }
  await writer.close()
  // No consumer and no instance heartbeat: the reader sends Redis nothing but what pages need.
  reader = await buildApp({ env, consume: false, store: new RedisScanStore({ connection: new Redis(url), keyPrefix: 'parascan' }) })
})

after(async () => {
  await reader?.close()
  admin?.disconnect()
  await server?.close()
})

/** Redis commands (those run inside Lua scripts included) that `fn` causes, by name. */
async function commandsOf (fn: () => Promise<void>): Promise<Record<string, number>> {
  await admin.config('RESETSTAT')
  await fn()
  const info = await admin.info('commandstats')
  const calls: Record<string, number> = {}
  for (const [, name, n] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (!/^(config|info)\b/.test(name)) calls[name] = Number(n)
  }
  return calls
}

/** Every page, following next_cursor, with the Redis commands each cost. */
async function pageAll (id: string, limit: number): Promise<{ items: unknown[], costs: number[], names: Set<string> }> {
  const items: unknown[] = []
  const costs: number[] = []
  const names = new Set<string>()
  let cursor: string | undefined
  for (;;) {
    let page: { items: unknown[], complete: boolean, next_cursor?: string } = { items: [], complete: false }
    const calls = await commandsOf(async () => {
      const response = await reader.inject({ url: `/v1/scans/${id}/results?limit=${limit}${cursor === undefined ? '' : `&cursor=${cursor}`}` })
      assert.equal(response.statusCode, 200, response.body)
      page = response.json()
    })
    costs.push(Object.values(calls).reduce((a, b) => a + b, 0))
    for (const name of Object.keys(calls)) names.add(name)
    items.push(...page.items)
    if (page.complete === true) return { items, costs, names }
    assert.ok(page.items.length > 0, 'a finished scan has no empty page before the last')
    cursor = page.next_cursor
  }
}

test('ordered pages of a scan of 200 tiny partitions, most of them empty: exact, and each page costs the same few Redis commands as with 40 partitions', async (t) => {
  const small = await pageAll(ids.ordered40, 7)
  const large = await pageAll(ids.ordered200, 7)
  assert.deepEqual(small.items, kept(200))
  assert.deepEqual(large.items, kept(1000))
  const worst = (costs: number[]): number => Math.max(...costs)
  t.diagnostic(`Redis commands per page of 7: 40 partitions max ${worst(small.costs)}, 200 partitions max ${worst(large.costs)}; pages: ${small.costs.length}, ${large.costs.length}`)
  // A page of 7 spans at most 3 stretches of 5 results: the scan's fields, and per stretch one script (2 commands in it) and one LRANGE.
  assert.ok(worst(large.costs) <= 1 + 3 * 4, `costs per page: ${large.costs.join(',')}`)
  assert.equal(worst(large.costs), worst(small.costs))
  assert.deepEqual([...large.names].sort(), ['evalsha', 'hmget', 'lrange', 'zrange'])
})

test('max_results over 200 ordered partitions is exact, also below the first partition\'s results', async () => {
  assert.deepEqual((await pageAll(ids.capped, 4)).items, kept(1000).slice(0, 33))
  assert.deepEqual((await pageAll(ids.tiny, 100)).items, [0, 1, 2])
  const doc = (await reader.inject({ url: `/v1/scans/${ids.tiny}` })).json()
  assert.deepEqual(doc.result, { count: 3, truncated: true, partial: false })
})

test('unordered pages over 200 partitions hold every result once; max_results stays exact', async () => {
  const all = await pageAll(ids.unordered, 9)
  assert.deepEqual([...all.items as number[]].sort((a, b) => a - b), kept(1000))
  assert.ok(Math.max(...all.costs) <= 1 + 3 * 4, `costs per page: ${all.costs.join(',')}`)
  const capped = (await pageAll(ids.unorderedCapped, 5)).items as number[]
  assert.equal(capped.length, 33)
  assert.equal(new Set(capped).size, 33)
  assert.ok(capped.every((n) => kept(1000).includes(n)))
})

const cursor = (position: unknown[]): string => Buffer.from(JSON.stringify(position)).toString('base64url')

test('a cursor made up, unsigned, or of another scan is a 400: a made-up item count cannot read past max_results', async () => {
  const first = (await reader.inject({ url: `/v1/scans/${ids.capped}/results?limit=31` })).json()
  assert.deepEqual(first.items, kept(1000).slice(0, 31))
  const [, seq, page, offset, consumed] = JSON.parse(Buffer.from(first.next_cursor, 'base64url').toString()) as number[]
  // Partition 30 holds 150..154, of which max_results admits 150, 151 and 152: the cursor says 151 is next.
  assert.deepEqual([seq, page, offset, consumed], [30, 0, 1, 1])
  const forged = [cursor(['p', 30, 0, 3, 0, 'AAAAAAAAAAAAAAAAAAAAAA']), cursor(['p', 30, 0, 3, 0]), cursor(['p', 30, 0, 3, 0, 7])]
  const elsewhere = (await reader.inject({ url: `/v1/scans/${ids.ordered200}/results?limit=31` })).json().next_cursor
  for (const bad of [...forged, elsewhere]) {
    const response = await reader.inject({ url: `/v1/scans/${ids.capped}/results?cursor=${bad}` })
    assert.equal(response.statusCode, 400, response.body)
    assert.equal(response.json().code, 'PARASCAN_INVALID_CURSOR')
  }
  const rest = (await reader.inject({ url: `/v1/scans/${ids.capped}/results?cursor=${first.next_cursor}` })).json()
  assert.deepEqual(rest, { items: [151, 152], complete: true, partial: false })
})

test('a page of a partitioned scan stops at PARASCAN_MAX_PAGE_BYTES and the next page goes on from there', async () => {
  const want = Array.from({ length: 300 }, (_, i) => `${i}${'y'.repeat(500)}`)
  const first = await reader.inject({ url: `/v1/scans/${ids.wide}/results?limit=10000` })
  const items = first.json().items as string[]
  assert.ok(items.length > 0 && items.length < 300)
  assert.ok(Buffer.byteLength(JSON.stringify(items)) <= MAX_PAGE_BYTES, `${first.body.length} bytes`)
  assert.deepEqual((await pageAll(ids.wide, 10000)).items, want)
})
