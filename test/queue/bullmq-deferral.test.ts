import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Redis } from 'ioredis'
import { BullmqScanQueue } from '../../src/queue/bullmq-scan-queue.js'
import type { ScanJobOutcome } from '../../src/queue/scan-queue.js'
import type { ServiceLog } from '../../src/service-log.js'
import { dropPrefix, REDIS_URL, uniquePrefix, waitFor } from '../helpers/service-harness.js'

const LOCK_MS = 1000

test('bullmq: a job put back and taken again by another slot of the same instance keeps its lock while it runs there: it is renewed and never run twice at once', async () => {
  const prefix = uniquePrefix()
  const redis = new Redis(REDIS_URL)
  const queue = new BullmqScanQueue({ connection: redis, prefix, concurrency: 2, lockDurationMs: LOCK_MS })
  const starts: number[] = []
  let running = 0
  let most = 0
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => { release = resolve })
  try {
    queue.process(async (): Promise<ScanJobOutcome> => {
      starts.push(Date.now())
      if (starts.length === 1) return 'deferred'
      most = Math.max(most, ++running)
      try {
        await released
      } finally {
        running--
      }
      return 'succeeded'
    })
    await queue.add('x')
    await waitFor(async () => starts.length >= 2 ? true : undefined, 30_000)
    const lockKey = `${prefix}:scans:x:lock`
    let renewals = 0
    let last = Number.POSITIVE_INFINITY
    await waitFor(async () => {
      const ttl = await redis.pttl(lockKey)
      if (ttl > last) renewals++
      last = ttl
      return renewals >= 4 || starts.length > 2 ? true : undefined
    }, 60_000, 20)
    assert.equal(starts.length, 2, `the job started ${starts.length} times`)
    assert.ok(renewals >= 4, `${renewals} lock renewals`)
    release()
    await waitFor(async () => (await queue.counts()).completed === 1 ? true : undefined, 30_000)
    assert.equal(most, 1)
  } finally {
    release()
    await queue.close()
    await dropPrefix(prefix)
  }
})

test('bullmq: twenty slots standing aside at once after putting their jobs back (all together, none waiting) raise no listener-leak warning, and every job then runs once', async () => {
  const prefix = uniquePrefix()
  const redis = new Redis(REDIS_URL)
  const slots = 20
  const queue = new BullmqScanQueue({ connection: redis, prefix, concurrency: slots })
  const warnings: string[] = []
  const warned = (warning: Error): void => { warnings.push(`${warning.name}: ${warning.message}`) }
  process.on('warning', warned)
  const runs = new Map<string, number>()
  try {
    let allIn: () => void = () => {}
    const taken = new Promise<void>((resolve) => { allIn = resolve })
    queue.process(async (id): Promise<ScanJobOutcome> => {
      runs.set(id, (runs.get(id) ?? 0) + 1)
      if (runs.get(id) !== 1) return 'succeeded'
      if (runs.size === slots) allIn()
      await taken
      return 'deferred'
    })
    for (let i = 0; i < slots; i++) await queue.add(`j${i}`)
    await waitFor(async () => (await queue.counts()).completed === slots ? true : undefined, 30_000)
    assert.deepEqual([...runs.values()], Array(slots).fill(2))
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')), [])
  } finally {
    process.off('warning', warned)
    await queue.close()
    await dropPrefix(prefix)
  }
})

test('bullmq: with a 2 s lock, a slot standing aside after putting its job back does not try to renew the lock it gave up (no "could not renew lock" warning)', async () => {
  const prefix = uniquePrefix()
  const redis = new Redis(REDIS_URL)
  const warnings: string[] = []
  const log = { debug: () => {}, error: () => {}, warn: (fields: { err?: Error }, message: string) => { warnings.push(`${message}: ${fields.err?.message ?? ''}`) } }
  const queue = new BullmqScanQueue({ connection: redis, prefix, concurrency: 1, lockDurationMs: 2000, log: log as unknown as ServiceLog })
  const runs = new Map<string, number>()
  try {
    queue.process(async (id): Promise<ScanJobOutcome> => {
      runs.set(id, (runs.get(id) ?? 0) + 1)
      return runs.get(id) === 1 ? 'deferred' : 'succeeded'
    })
    for (let i = 1; i <= 5; i++) {
      await queue.add(`j${i}`)
      await waitFor(async () => (await queue.counts()).completed === i ? true : undefined, 30_000)
    }
    assert.deepEqual(warnings, [])
  } finally {
    await queue.close()
    await dropPrefix(prefix)
  }
})
