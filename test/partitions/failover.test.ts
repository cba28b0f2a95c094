import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { Redis } from 'ioredis'
import { Queue } from 'bullmq'
import { dropPrefix, http, REDIS_URL, uniquePrefix, waitFor } from '../helpers/service-harness.js'
import { finished, heldPartition, lockExpiry, partitionFields, processedOf, readAll, stalledMoves, startInstance, type Instance } from '../helpers/cluster-harness.js'

const prefix = uniquePrefix()
const children: ChildProcess[] = []
const survivors: Instance[] = []
const redis = new Redis(REDIS_URL)
const partitionQueue = new Queue('scan-partitions', { connection: redis, prefix })
// The default PARASCAN_PARTITION_LOCK_DURATION (4 s): a quarter of it is the stalled-check period.
const env = { REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_PARTITION_RECORDS: '1000', PARASCAN_PROGRESS_INTERVAL: '100ms' }
const LOCK_MS = 4000
const CHECK_MS = LOCK_MS / 4
const RECORDS = 15000

before(async () => {
  survivors.push(...await Promise.all([0, 1].map(async () => await startInstance(env, children))))
})

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await partitionQueue.close()
  await dropPrefix(prefix)
  redis.disconnect()
})

async function submit (): Promise<string> {
  const { json } = await http(survivors[0].url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: RECORDS }, pipeline: [{ processor: 'sleep', params: { ms: 0.6 } }], ordered: true })
  return json.id
}

async function attempts (id: string, part: number): Promise<number> {
  return Number((await partitionFields(redis, prefix, id))[`${part}:n`] ?? '0')
}

async function assertExact (id: string, rerun: number, records = RECORDS): Promise<void> {
  const doc = await finished(survivors[1].url, id, 120_000)
  assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
  assert.equal(doc.partitions.rerun, rerun)
  assert.equal(doc.progress.processed, records)
  assert.deepEqual(await readAll(survivors[0].url, id, 4000), Array.from({ length: records }, (_, i) => i))
}

test('kill -9, three times with the default lock: each lost partition is moved back by the first stalled check after its lock expired and runs again elsewhere well within 10 s', async (t) => {
  for (let trial = 0; trial < 3; trial++) {
    const doomed = await startInstance(env, children)
    const id = await submit()
    const job = await heldPartition(partitionQueue, redis, prefix, id, doomed.pid, 0, 400)
    const part = job.data.part as number
    const killedAt = Date.now()
    doomed.child.kill('SIGKILL')
    await doomed.exited
    const expiry = await lockExpiry(redis, prefix, job.id!)
    assert.ok(expiry !== undefined, 'the lock outlives its holder until it expires')
    const [moved] = await waitFor(async () => { const moves = await stalledMoves(redis, prefix, job.id!, killedAt - 60_000); return moves.length > 0 ? moves : undefined }, 30_000, 20)
    const rerunAt = await waitFor(async () => await attempts(id, part) >= 2 ? Date.now() : undefined, 30_000, 20)
    const timing = `trial ${trial + 1}: lock expired ${expiry - killedAt} ms after the kill, moved back ${moved - killedAt} ms after it, ran again after ${rerunAt - killedAt} ms`
    t.diagnostic(timing)
    // Two stalled checks a lock apart (the former timing) would move it back up to two lock periods after expiry.
    assert.ok(moved - expiry <= CHECK_MS + 1000, timing)
    assert.ok(moved - killedAt <= LOCK_MS + CHECK_MS + 1000, timing)
    assert.ok(rerunAt - killedAt <= 10_000, timing)
    const rerunBy = (await partitionQueue.getJob(job.id!))?.processedBy ?? ''
    assert.ok(survivors.some((s) => rerunBy.endsWith(`:${s.pid}`)), `re-run by ${rerunBy}`)
    await assertExact(id, 1)
  }
})

test('partitions that run three times their lock keep it, through a 2 s SIGSTOP (half the lock) of their instance: nothing runs twice', async () => {
  const paused = await startInstance(env, children)
  const records = 30000
  const { json } = await http(survivors[0].url, 'POST', '/v1/scans', {
    source: { type: 'range', start: 0, end: records }, pipeline: [{ processor: 'sleep', params: { ms: 1.5 } }], partitions: 3, ordered: true
  })
  await heldPartition(partitionQueue, redis, prefix, json.id, paused.pid, 1000, 3000)
  paused.child.kill('SIGSTOP')
  await new Promise((resolve) => setTimeout(resolve, LOCK_MS / 2))
  paused.child.kill('SIGCONT')
  await assertExact(json.id, 0, records)
  for (const part of [0, 1, 2]) {
    const job = await partitionQueue.getJob(`${json.id}-${part}`)
    assert.ok(job?.finishedOn !== undefined && job.processedOn !== undefined && job.finishedOn - job.processedOn >= 3 * LOCK_MS, `partition ${part} ran ${(job?.finishedOn ?? 0) - (job?.processedOn ?? 0)} ms`)
    assert.equal(await attempts(json.id, part), 1)
    assert.deepEqual(await stalledMoves(redis, prefix, job.id!), [])
  }
  paused.child.kill('SIGKILL')
  await paused.exited
})

test('an instance stopped (SIGSTOP) past its lock loses its partition to another instance; once it goes on, its attempt is fenced and the results stay exact', async () => {
  const paused = await startInstance(env, children)
  const id = await submit()
  const job = await heldPartition(partitionQueue, redis, prefix, id, paused.pid, 0, 400)
  const part = job.data.part as number
  paused.child.kill('SIGSTOP')
  await waitFor(async () => await attempts(id, part) >= 2 ? true : undefined, 30_000, 20)
  const rerunProcessed = await waitFor(async () => {
    const processed = processedOf(await partitionFields(redis, prefix, id), part)
    return processed > 0 ? processed : undefined
  }, 30_000, 20)
  paused.child.kill('SIGCONT')
  await assertExact(id, 1)
  assert.ok(rerunProcessed > 0)
  assert.equal(await attempts(id, part), 2)
  assert.equal((await http(paused.url, 'GET', '/readyz')).status, 200)
  const next = await submit()
  await heldPartition(partitionQueue, redis, prefix, next, paused.pid, 0, 1000)
  await assertExact(next, 0)
  paused.child.kill('SIGKILL')
  await paused.exited
})
