import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Redis } from 'ioredis'
import type { ScanStore } from '../../src/store/scan-store.js'
import { MemoryScanStore } from '../../src/store/memory-scan-store.js'
import { RedisScanStore } from '../../src/store/redis-scan-store.js'
import { emptyProgress, type ScanRecord } from '../../src/store/scan-record.js'
import { newScanId } from '../../src/store/scan-id.js'
import { partitionUnit } from '../../src/store/storage-charge.js'
import { dropPrefix, REDIS_URL, uniquePrefix, waitFor } from '../helpers/service-harness.js'

const prefixes: string[] = []
after(async () => { for (const prefix of prefixes) await dropPrefix(prefix) })

const request = { source: { type: 'range' as const, start: 0, end: 10 }, pipeline: [], ordered: false, on_error: 'fail' as const }
const outcome = { status: 'succeeded' as const, progress: emptyProgress(10), result: { count: 0, truncated: false }, error: null, errors: [], metrics: null }

function record (tenant?: string): ScanRecord {
  return {
    id: newScanId(), status: 'queued', created_at: new Date().toISOString(), started_at: null, finished_at: null, expires_at: null,
    progress: emptyProgress(10), result: { count: 0, truncated: false }, error: null, errors: [], metrics: null, attempt: null,
    ...(tenant === undefined ? {} : { tenant })
  }
}

function redisStore (prefix: string, retentionMs: number): RedisScanStore {
  return new RedisScanStore({ connection: new Redis(REDIS_URL), keyPrefix: prefix, retentionMs })
}

const stores: Array<[string, (retentionMs?: number) => ScanStore]> = [
  ['memory', (retentionMs = 60_000) => new MemoryScanStore({ retentionMs })],
  ['redis', (retentionMs = 60_000) => {
    const prefix = uniquePrefix()
    prefixes.push(prefix)
    return redisStore(prefix, retentionMs)
  }]
]

/** A running scan of `tenant`, begun with `attempt`, split into three partitions (their units are charged apart). */
async function running (store: ScanStore, tenant: string | undefined, attempt = 'a1'): Promise<string> {
  const scan = record(tenant)
  await store.create(scan, request)
  await store.begin(scan.id, attempt, new Date().toISOString())
  await store.planPartitions(scan.id, attempt, { partitions: 3, mode: 'unordered', cap: 100, total: 10 })
  return scan.id
}

async function finish (store: ScanStore, id: string): Promise<void> {
  assert.equal(await store.finishPartitioned(id, outcome, new Date().toISOString(), []), true)
}

for (const [name, make] of stores) {
  test(`${name} store: a tenant may store exactly its quota, not a byte more; other tenants are not charged`, async () => {
    const store = make()
    try {
      const id = await running(store, 'a')
      assert.deepEqual(await store.chargeStorage('a', id, 'a1', 600, 1000), { charged: true, used: 600 })
      assert.deepEqual(await store.chargeStorage('a', id, 'a1', 401, 1000), { charged: false, used: 600 })
      assert.deepEqual(await store.chargeStorage('a', id, 'a1', 400, 1000), { charged: true, used: 1000 })
      assert.deepEqual(await store.chargeStorage('a', id, 'a1', 1, 1000), { charged: false, used: 1000 })
      assert.deepEqual(await store.chargeStorage('a', id, 'a1', 0, 1000), { charged: true, used: 1000 }, 'nothing more fits, and nothing is nothing')
      const other = await running(store, 'b')
      assert.deepEqual(await store.chargeStorage('b', other, 'a1', 1000, 1000), { charged: true, used: 1000 })
      assert.deepEqual(await store.chargeStorage(undefined, await running(store, undefined), 'a1', 5, 0), { charged: true, used: 5 }, '0 is no quota')
      assert.equal((await store.storageUsage('a')).used, 1000)
      assert.equal((await store.storageUsage('nobody')).used, 0)
    } finally {
      await store.close()
    }
  })

  test(`${name} store: a new attempt of a scan or a partition drops what the one before stored; a refund counts only for its own attempt`, async () => {
    const store = make()
    try {
      const id = await running(store, 'a')
      await store.chargeStorage('a', id, 'a1', 700, 1000)
      await store.chargeStorage('a', partitionUnit(id, 3), 'p1', 200, 1000)
      assert.equal((await store.storageUsage('a')).used, 900)
      assert.deepEqual(await store.chargeStorage('a', id, 'a2', 0, 0), { charged: true, used: 200 })
      assert.deepEqual(await store.chargeStorage('a', partitionUnit(id, 3), 'p2', 50, 1000), { charged: true, used: 50 })
      assert.deepEqual(await store.chargeStorage('a', partitionUnit(id, 3), 'p1', -200, 0), { charged: true, used: 50 }, 'the old attempt gives back nothing')
      assert.deepEqual(await store.chargeStorage('a', partitionUnit(id, 3), 'p2', -50, 0), { charged: true, used: 0 })
    } finally {
      await store.close()
    }
  })

  test(`${name} store: deleting a scan frees its bytes at once, with its partitions'`, async () => {
    const store = make()
    try {
      const id = await running(store, 'a')
      await store.chargeStorage('a', id, 'a1', 600, 1000)
      await store.chargeStorage('a', partitionUnit(id, 0), 'p1', 300, 1000)
      assert.equal((await store.chargeStorage('a', id, 'a1', 200, 1000)).charged, false)
      await finish(store, id)
      assert.equal((await store.storageUsage('a')).used, 900, 'a finished scan still counts (in Redis its charges now end with its keys)')
      assert.deepEqual(await store.remove(id), { outcome: 'removed' })
      assert.deepEqual(await store.storageUsage('a'), { used: 0, freesAt: null })
      const next = await running(store, 'a')
      assert.deepEqual(await store.chargeStorage('a', next, 'a1', 1000, 1000), { charged: true, used: 1000 })
      assert.deepEqual(await store.chargeStorage('a', id, 'a1', 10, 1000), { charged: true, used: 1000 }, 'a late write of the deleted scan charges nothing')
    } finally {
      await store.close()
    }
  })

  test(`${name} store: a finished scan's bytes count until its retention is over, then they are free`, async () => {
    const store = make(1500)
    try {
      const id = await running(store, 'a')
      await store.chargeStorage('a', id, 'a1', 1000, 1000)
      const finishedAt = new Date()
      await store.finish(id, 'a1', outcome, finishedAt.toISOString())
      const usage = await store.storageUsage('a')
      assert.equal(usage.used, 1000)
      assert.ok(usage.freesAt !== null && Math.abs(usage.freesAt - (finishedAt.getTime() + 1500)) < 1000, `frees at ${usage.freesAt}`)
      const other = await running(store, 'a')
      assert.equal((await store.chargeStorage('a', other, 'a1', 1, 1000)).charged, false)
      await waitFor(async () => (await store.storageUsage('a')).used === 0 ? true : undefined, 15_000, 100)
      assert.deepEqual(await store.chargeStorage('a', other, 'a1', 1000, 1000), { charged: true, used: 1000 })
    } finally {
      await store.close()
    }
  })

  test(`${name} store: charges follow a model of the tenant's bytes whatever the order of charges, refunds, new attempts and deletes (fast-check)`, async () => {
    const store = make()
    try {
      const quota = 5000
      const op = fc.oneof(
        fc.record({ kind: fc.constant('charge' as const), scan: fc.nat(3), part: fc.option(fc.nat(2), { nil: undefined }), attempt: fc.constantFrom('x', 'y'), bytes: fc.integer({ min: -800, max: 2000 }) }),
        fc.record({ kind: fc.constant('delete' as const), scan: fc.nat(3) })
      )
      await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 30 }), async (ops) => {
        const tenant = `t-${newScanId()}`
        const ids = await Promise.all([0, 1, 2, 3].map(async () => await running(store, tenant)))
        const model = new Map<string, { attempt: string, bytes: number }>()
        const used = (): number => [...model.values()].reduce((sum, held) => sum + held.bytes, 0)
        for (const o of ops) {
          if (o.kind === 'delete') {
            await finish(store, ids[o.scan])
            assert.equal((await store.storageUsage(tenant)).used, used(), 'a finished scan counts until it is deleted')
            await store.remove(ids[o.scan])
            for (const unit of model.keys()) if (unit.startsWith(ids[o.scan])) model.delete(unit)
            ids[o.scan] = await running(store, tenant)
            continue
          }
          const unit = o.part === undefined ? ids[o.scan] : partitionUnit(ids[o.scan], o.part)
          let held = model.get(unit)
          let expected = true
          if (held?.attempt !== o.attempt && o.bytes >= 0) model.set(unit, held = { attempt: o.attempt, bytes: 0 })
          if (held?.attempt === o.attempt) {
            const bytes = o.bytes < 0 ? -Math.min(-o.bytes, held.bytes) : o.bytes
            if (bytes > 0 && used() + bytes > quota) expected = false
            else held.bytes += bytes
            const got = await store.chargeStorage(tenant, unit, o.attempt, bytes, quota)
            assert.equal(got.charged, expected)
          } else {
            await store.chargeStorage(tenant, unit, o.attempt, o.bytes, quota)
          }
          assert.ok(used() <= quota)
          assert.equal((await store.storageUsage(tenant)).used, used())
        }
      }), { numRuns: 40 })
    } finally {
      await store.close()
    }
  })
}

test('redis store: charges from two instances at once never pass the quota together', async () => {
  const prefix = uniquePrefix()
  prefixes.push(prefix)
  const one = redisStore(prefix, 60_000)
  const two = redisStore(prefix, 60_000)
  try {
    const ids = await Promise.all(Array.from({ length: 8 }, async () => await running(one, 'a')))
    const results = await Promise.all(Array.from({ length: 200 }, async (_, i) =>
      await (i % 2 === 0 ? one : two).chargeStorage('a', ids[i % ids.length], 'a1', 100, 10_000)))
    assert.equal(results.filter((r) => r.charged).length, 100)
    assert.ok(results.every((r) => r.used <= 10_000))
    assert.equal((await two.storageUsage('a')).used, 10_000)
  } finally {
    await Promise.all([one.close(), two.close()])
  }
})
