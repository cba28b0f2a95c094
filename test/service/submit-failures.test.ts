import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { Redis } from 'ioredis'
import type { TestContext } from 'node:test'
import { MemoryScanQueue } from '../../src/queue/memory-scan-queue.js'
import { MemoryScanStore } from '../../src/store/memory-scan-store.js'
import { RedisScanStore } from '../../src/store/redis-scan-store.js'
import { ServiceUnavailableError } from '../../src/errors.js'
import { emptyProgress, type ScanRecord } from '../../src/store/scan-record.js'
import { newScanId } from '../../src/store/scan-id.js'
import type { ScanRequest } from '../../schemas/scan-request.js'
import { build, dropPrefix, REDIS_URL, uniquePrefix } from '../helpers/service-harness.js'

const closers: Array<() => Promise<void>> = []
after(async () => { for (const close of closers) await close() })

/** A store and a queue that fail the next call of a method when told to, as Redis going away between two commands would. */
class FlakyStore extends MemoryScanStore {
  failNextCreate = false
  override async create (...args: Parameters<MemoryScanStore['create']>): ReturnType<MemoryScanStore['create']> {
    if (this.failNextCreate) {
      this.failNextCreate = false
      throw new ServiceUnavailableError('store unreachable')
    }
    return await super.create(...args)
  }

  failNextAbandon = false
  override async abandon (...args: Parameters<MemoryScanStore['abandon']>): ReturnType<MemoryScanStore['abandon']> {
    if (this.failNextAbandon) {
      this.failNextAbandon = false
      throw new ServiceUnavailableError('store unreachable')
    }
    return await super.abandon(...args)
  }
}

class FlakyQueue extends MemoryScanQueue {
  failNextAdd = false
  override async add (id: string): Promise<void> {
    if (this.failNextAdd) {
      this.failNextAdd = false
      throw new ServiceUnavailableError('queue unreachable')
    }
    await super.add(id)
  }
}

async function flakyApp (t: TestContext) {
  const store = new FlakyStore()
  const queue = new FlakyQueue()
  const app = await build(t, { store, queue, consume: false })
  const post = async (key?: string) => await app.inject({
    method: 'POST', url: '/v1/scans', payload: { source: { type: 'range', start: 0, end: 10 } }, headers: key === undefined ? {} : { 'idempotency-key': key }
  })
  return { app, store, queue, post }
}

test('a retry with the same Idempotency-Key stores and queues a scan whose first request failed after claiming the key', async (t) => {
  const { app, store, queue, post } = await flakyApp(t)
  store.failNextCreate = true
  const first = await post('retry-1')
  assert.equal(first.statusCode, 503)
  assert.equal(first.headers['retry-after'], '2')
  const second = await post('retry-1')
  assert.equal(second.statusCode, 202, second.body)
  const id = second.json().id
  assert.equal((await app.inject({ method: 'GET', url: `/v1/scans/${id}` })).json().status, 'queued')
  assert.equal((await queue.counts()).waiting, 1)
  assert.equal((await post('retry-1')).json().id, id, 'later retries give the same scan')
  assert.equal((await queue.counts()).waiting, 1, 'and do not queue it twice')
})

test('a scan stored but not queued is marked failed, or, when even that fails, queued by the retry with the same Idempotency-Key', async (t) => {
  const { app, store, queue, post } = await flakyApp(t)
  queue.failNextAdd = true
  const lost = await post()
  assert.equal(lost.statusCode, 503)
  const [orphan] = (await app.inject({ method: 'GET', url: '/v1/scans' })).json().items
  assert.equal(orphan.status, 'failed', 'never left queued without a job')
  assert.equal(orphan.error.code, 'PARASCAN_UNAVAILABLE')

  queue.failNextAdd = true
  store.failNextAbandon = true
  assert.equal((await post('retry-2')).statusCode, 503)
  assert.equal((await queue.counts()).waiting, 0)
  const retried = await post('retry-2')
  assert.equal(retried.statusCode, 202)
  assert.equal(retried.json().status, 'queued')
  assert.equal((await queue.counts()).waiting, 1, 'the retry queued the stored scan')
})

test('Redis store: creating a scan whose id exists leaves the first one as it is', async () => {
  const prefix = uniquePrefix()
  const store = new RedisScanStore({ connection: new Redis(REDIS_URL), keyPrefix: prefix })
  closers.push(async () => { await store.close(); await dropPrefix(prefix) })
  const id = newScanId()
  const record = (total: number): ScanRecord => ({
    id, status: 'queued', created_at: new Date().toISOString(), started_at: null, finished_at: null, expires_at: null,
    progress: emptyProgress(total), result: { count: 0, truncated: false }, error: null, errors: [], metrics: null, attempt: null
  })
  const request = { source: { type: 'range', start: 0, end: 5 }, pipeline: [], ordered: false, on_error: 'fail' } as ScanRequest
  assert.equal(await store.create(record(5), request), 'created')
  assert.ok(await store.begin(id, 'attempt-1', new Date().toISOString()))
  assert.equal(await store.create(record(99), request), 'exists')
  const stored = await store.get(id)
  assert.equal(stored?.status, 'running')
  assert.equal(stored?.attempt, 'attempt-1')
  assert.equal(stored?.progress.total, 5)
})

test('which errors count as Redis being unreachable (503) and which do not', async () => {
  const { isRedisUnavailable } = await import('../../src/http/redis-unavailable.js')
  for (const message of ["Stream isn't writeable and enableOfflineQueue options is false", 'Connection is closed.', 'Command timed out', 'connect ECONNREFUSED 127.0.0.1:6379', 'LOADING Redis is loading the dataset in memory']) {
    assert.equal(isRedisUnavailable(new Error(message)), true, message)
  }
  assert.equal(isRedisUnavailable(Object.assign(new Error('Reached the max retries per request limit (which is 1).'), { name: 'MaxRetriesPerRequestError' })), true)
  assert.equal(isRedisUnavailable(Object.assign(new Error('Body ECONNREFUSED'), { code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 400 })), false)
  assert.equal(isRedisUnavailable(Object.assign(new Error('record says Connection is closed.'), { code: 'PARASCAN_INVALID_SCAN', statusCode: 400 })), false)
  assert.equal(isRedisUnavailable(new Error('something else')), false)
  assert.equal(isRedisUnavailable(null), false)
})
