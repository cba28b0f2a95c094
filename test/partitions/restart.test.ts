import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { Redis } from 'ioredis'
import { PrivateRedis } from '../helpers/private-redis.js'
import { dropPrefix, http, REDIS_URL, uniquePrefix, waitFor } from '../helpers/service-harness.js'
import { finished, partitionRuns, readAll, startInstance } from '../helpers/cluster-harness.js'

const children: ChildProcess[] = []
const prefixes: string[] = []
const servers: PrivateRedis[] = []

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  for (const prefix of prefixes) await dropPrefix(prefix)
  for (const server of servers) await server.close()
})

async function stop (child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
}

const slow = { processor: 'sleep', params: { ms: 0.5 } }

test('Redis killed and restarted from its AOF mid-scan: three instances carry the partitioned scan on to an exact result', async () => {
  const redis = await PrivateRedis.start({ aof: true })
  servers.push(redis)
  const env = { REDIS_URL: redis.url, PARASCAN_PARTITION_RECORDS: '500', PARASCAN_PROGRESS_INTERVAL: '100ms' }
  const instances = await Promise.all([0, 1, 2].map(async () => await startInstance(env, children)))
  const scan = (await http(instances[0].url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 12000 }, pipeline: [slow], ordered: true })).json
  await waitFor(async () => {
    const doc = (await http(instances[1].url, 'GET', `/v1/scans/${scan.id}`)).json
    return doc.partitions?.succeeded >= 3 ? doc : undefined
  }, 30_000, 50)
  await redis.kill()
  await new Promise((resolve) => setTimeout(resolve, 1000))
  await redis.restart()
  const doc = await finished(instances[2].url, scan.id, 60_000)
  assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
  assert.equal(doc.progress.processed, 12000)
  assert.deepEqual(await readAll(instances[0].url, scan.id, 5000), Array.from({ length: 12000 }, (_, i) => i))
  assert.equal(doc.partitions.succeeded, 24)
})

test('one instance killed and started again resumes from its committed partitions', async () => {
  const prefix = uniquePrefix()
  prefixes.push(prefix)
  const redis = new Redis(REDIS_URL)
  try {
    const env = { REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_PARTITION_RECORDS: '500', PARASCAN_PROGRESS_INTERVAL: '100ms' }
    const first = await startInstance(env, children)
    const scan = (await http(first.url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 5000 }, pipeline: [slow] })).json
    await waitFor(async () => {
      const doc = (await http(first.url, 'GET', `/v1/scans/${scan.id}`)).json
      return doc.partitions?.succeeded >= 3 ? doc : undefined
    }, 30_000, 50)
    await stop(first.child)
    const before = await partitionRuns(redis, prefix, scan.id)
    const committed = (await redis.hgetall(`${prefix}:scan:{${scan.id}}:parts`))
    const done = Object.keys(committed).filter((field) => /^\d+:s$/.test(field) && committed[field] === 'c').map((field) => Number(field.split(':')[0]))
    assert.ok(done.length >= 3)

    const second = await startInstance(env, children)
    const doc = await finished(second.url, scan.id, 60_000)
    assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
    const runs = await partitionRuns(redis, prefix, scan.id)
    for (const part of done) assert.equal(runs[part], 1, `committed partition ${part} ran again`)
    const rerun = runs.map((n, part) => n > 1 ? part : -1).filter((part) => part >= 0)
    assert.ok(rerun.length <= 1 && rerun.every((part) => before[part] === 1), `re-run: ${rerun.join(', ')}`)
    assert.equal(doc.partitions.rerun, rerun.length)
    const items = await readAll(second.url, scan.id, 2000) as number[]
    assert.deepEqual([...items].sort((a, b) => a - b), Array.from({ length: 5000 }, (_, i) => i))
  } finally {
    redis.disconnect()
  }
})
