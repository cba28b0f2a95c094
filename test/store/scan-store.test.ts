import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import type { ScanStore } from '../../src/store/scan-store.js'
import { MemoryScanStore } from '../../src/store/memory-scan-store.js'
import { RedisScanStore } from '../../src/store/redis-scan-store.js'
import { openStateDir } from '../../src/store/open-state-dir.js'
import { emptyProgress } from '../../src/store/scan-record.js'
import { outcome, record, request } from '../helpers/store-fixtures.js'
import { dropPrefix, REDIS_URL, uniquePrefix } from '../helpers/service-harness.js'

const prefixes: string[] = []
const dirs: string[] = []
after(async () => {
  for (const prefix of prefixes) await dropPrefix(prefix)
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

const stores: Array<[string, () => Promise<ScanStore>]> = [
  ['memory', async () => new MemoryScanStore({ retentionMs: 60_000 })],
  ['state directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parascan-state-'))
    dirs.push(dir)
    return await openStateDir({ dir, retentionMs: 60_000 })
  }],
  ['redis', async () => {
    const prefix = uniquePrefix()
    prefixes.push(prefix)
    return new RedisScanStore({ connection: new Redis(REDIS_URL), keyPrefix: prefix, retentionMs: 60_000 })
  }]
]

for (const [name, make] of stores) {
  test(`${name} store: attempts are fenced; a new attempt discards the old one's pages`, async () => {
    const store = await make()
    try {
      const scan = record()
      await store.create(scan, request)
      assert.deepEqual(await store.getRequest(scan.id), request)
      const first = await store.begin(scan.id, 'a1', new Date().toISOString())
      assert.equal(first?.previousAttempt, null)
      assert.equal(first?.record.status, 'running')
      assert.equal(await store.appendPages(scan.id, 'a1', ['[1,2]', '[3]']), true)
      assert.deepEqual(await store.readPages(scan.id, 'a1', 0, 10), ['[1,2]', '[3]'])

      const second = await store.begin(scan.id, 'a2', new Date().toISOString())
      assert.equal(second?.previousAttempt, 'a1')
      assert.deepEqual(await store.readPages(scan.id, 'a1', 0, 10), [])
      assert.equal(await store.appendPages(scan.id, 'a1', ['[9]']), false)
      assert.equal(await store.update(scan.id, 'a1', { progress: emptyProgress(10), result: { count: 9, truncated: false } }), false)
      assert.equal(await store.finish(scan.id, 'a1', outcome('succeeded'), new Date().toISOString()), false)

      assert.equal(await store.appendPages(scan.id, 'a2', ['[1,2]', '[3,4]']), true)
      assert.equal(await store.finish(scan.id, 'a2', outcome('succeeded'), new Date().toISOString()), true)
      const done = await store.get(scan.id)
      assert.equal(done?.status, 'succeeded')
      assert.equal(done?.attempt, 'a2')
      assert.ok(done?.expires_at !== null)
      assert.deepEqual(await store.readPages(scan.id, 'a2', 1, 5), ['[3,4]'])
      assert.equal(await store.begin(scan.id, 'a3', new Date().toISOString()), undefined)
      assert.deepEqual(await store.cancel(scan.id, new Date().toISOString()), { outcome: 'finished', status: 'succeeded' })
      assert.equal(await store.abandon(scan.id, { code: 'X', message: 'x' }, new Date().toISOString()), false)
      assert.deepEqual(await store.remove(scan.id), { outcome: 'removed' })
      assert.equal(await store.get(scan.id), undefined)
      assert.equal(await store.remove(scan.id), undefined)
    } finally {
      await store.close()
    }
  })

  test(`${name} store: cancel, abandon, list and idempotency keys`, async () => {
    const store = await make()
    try {
      const signalled: string[] = []
      store.onCancelRequest((id) => signalled.push(id))
      if (store instanceof RedisScanStore) await store.ready()
      const queued = record()
      const running = record()
      const lost = record()
      for (const scan of [queued, running, lost]) await store.create(scan, request)
      await store.begin(running.id, 'r1', new Date().toISOString())
      assert.deepEqual(await store.cancel(queued.id, new Date().toISOString()), { outcome: 'cancelled' })
      assert.equal((await store.get(queued.id))?.status, 'cancelled')
      assert.equal(await store.begin(queued.id, 'q1', new Date().toISOString()), undefined)
      assert.deepEqual(await store.cancel(running.id, new Date().toISOString()), { outcome: 'signalled' })
      for (let i = 0; i < 100 && signalled.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
      assert.deepEqual(signalled, [running.id])
      assert.deepEqual(await store.remove(running.id), { outcome: 'active', status: 'running' })
      const again = await store.begin(running.id, 'r2', new Date().toISOString())
      assert.equal(again?.cancelRequested, true)

      assert.equal(await store.abandon(lost.id, { code: 'PARASCAN_SCAN_LOST', message: 'gone' }, new Date().toISOString()), true)
      assert.equal((await store.get(lost.id))?.error?.code, 'PARASCAN_SCAN_LOST')

      const all = await store.list({ limit: 10 })
      assert.deepEqual(all.map((r) => r.id), [lost.id, running.id, queued.id])
      assert.deepEqual((await store.list({ limit: 10, status: 'running' })).map((r) => r.id), [running.id])
      assert.deepEqual((await store.list({ limit: 10, before: running.id })).map((r) => r.id), [queued.id])

      const key = `k-${Math.random()}`
      assert.equal(await store.claimIdempotencyKey(key, 'first'), undefined)
      assert.equal(await store.claimIdempotencyKey(key, 'second'), 'first')
    } finally {
      await store.close()
    }
  })
}

test('redis store: the pages of an abandoned scan stay readable and expire with it', async () => {
  const prefix = uniquePrefix()
  prefixes.push(prefix)
  const store = new RedisScanStore({ connection: new Redis(REDIS_URL), keyPrefix: prefix, retentionMs: 60_000 })
  const redis = new Redis(REDIS_URL)
  try {
    await store.ready()
    const lost = record()
    await store.create(lost, request)
    await store.begin(lost.id, 'a1', new Date().toISOString())
    assert.equal(await store.appendPages(lost.id, 'a1', ['[1,2]', '[3]']), true)
    assert.equal(await store.abandon(lost.id, { code: 'PARASCAN_SCAN_LOST', message: 'gone' }, new Date().toISOString()), true)
    assert.deepEqual(await store.readPages(lost.id, 'a1', 0, 10), ['[1,2]', '[3]'])
    const keys: string[] = []
    let cursor = '0'
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*pages*`, 'COUNT', 1000)
      keys.push(...found)
      cursor = next
    } while (cursor !== '0')
    assert.equal(keys.length, 1)
    const ttl = await redis.pttl(keys[0])
    assert.ok(ttl > 0 && ttl <= 60_000, `pages key TTL ${ttl}`)
  } finally {
    redis.disconnect()
    await store.close()
  }
})
