import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import type { RunningServer } from '../../src/server.js'
import { dropPrefix, http, realServer, REDIS_URL, uniquePrefix, waitFor } from '../helpers/service-harness.js'
import { PrivateRedis } from '../helpers/private-redis.js'

const servers: RunningServer[] = []
const prefixes: string[] = []
let privateRedis: PrivateRedis | undefined

after(async () => {
  await Promise.allSettled(servers.map(async (server) => await server.close()))
  for (const prefix of prefixes) await dropPrefix(prefix)
  await privateRedis?.close()
})

const processorsDir = fileURLToPath(new URL('../fixtures/processors/', import.meta.url))

const napScan = (records: number, ms: number) => ({ source: { type: 'range', start: 0, end: records }, pipeline: [{ processor: 'sleep', params: { ms } }] })

async function instance (env: Record<string, string>): Promise<RunningServer> {
  const server = await realServer({ PROCESSORS_DIR: processorsDir, PARASCAN_PROGRESS_INTERVAL: '100ms', PARASCAN_STATUS_WAIT_POLL_INTERVAL: '100ms', ...env })
  servers.push(server)
  return server
}

async function submit (server: RunningServer, body: unknown): Promise<string> {
  const accepted = await http(server.url, 'POST', '/v1/scans', body)
  assert.equal(accepted.status, 202, JSON.stringify(accepted.json))
  return accepted.json.id
}

test('a wait on an instance that does not run the scan ends when the scan ends on another instance: succeeded, then cancelled', async () => {
  const prefix = uniquePrefix()
  prefixes.push(prefix)
  const api = await instance({ REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_CONCURRENCY: '0' })
  await instance({ REDIS_URL, PARASCAN_KEY_PREFIX: prefix })
  const short = await submit(api, napScan(40, 20))
  const done = await http(api.url, 'GET', `/v1/scans/${short}?wait=60s`)
  assert.equal(done.status, 200)
  assert.equal(done.json.status, 'succeeded')
  assert.equal(done.json.result.count, 40)

  const long = await submit(api, napScan(100_000, 50))
  await waitFor(async () => (await http(api.url, 'GET', `/v1/scans/${long}`)).json.status === 'running' ? true : undefined, 20_000)
  const waits = Array.from({ length: 50 }, async () => await http(api.url, 'GET', `/v1/scans/${long}?wait=60s`))
  await waitFor(async () => api.app.statusWaiters.size === 50 ? true : undefined)
  assert.equal((await http(api.url, 'POST', `/v1/scans/${long}/cancel`)).status, 202)
  for (const answer of await Promise.all(waits)) {
    assert.equal(answer.status, 200)
    assert.equal(answer.json.status, 'cancelled')
  }
  assert.equal(api.app.statusWaiters.size, 0)
})

test('Redis killed while requests wait: they answer 503 PARASCAN_UNAVAILABLE or the status, never hang; after a restart a wait sees the scan end', async () => {
  privateRedis = await PrivateRedis.start({ aof: true })
  const env = { REDIS_URL: privateRedis.url, PARASCAN_LOCK_DURATION: '3s' }
  const api = await instance({ ...env, PARASCAN_CONCURRENCY: '0' })
  await instance(env)
  const id = await submit(api, napScan(400, 20))
  await waitFor(async () => (await http(api.url, 'GET', `/v1/scans/${id}`)).json.status === 'running' ? true : undefined, 20_000)
  const waits = Array.from({ length: 10 }, async () => await http(api.url, 'GET', `/v1/scans/${id}?wait=2s`))
  await waitFor(async () => api.app.statusWaiters.size === 10 ? true : undefined)
  await privateRedis.kill()
  for (const answer of await Promise.all(waits)) {
    if (answer.status === 503) assert.equal(answer.json.code, 'PARASCAN_UNAVAILABLE')
    else assert.equal(answer.status, 200, JSON.stringify(answer.json))
  }
  assert.equal(api.app.statusWaiters.size, 0)
  await privateRedis.restart()
  await waitFor(async () => (await http(api.url, 'GET', '/readyz')).status === 200 ? true : undefined, 15_000, 100)
  const doc = await waitFor(async () => {
    const answer = await http(api.url, 'GET', `/v1/scans/${id}?wait=10s`)
    return answer.status === 200 && ['succeeded', 'failed', 'cancelled'].includes(answer.json.status) ? answer.json : undefined
  }, 60_000, 100)
  assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
  assert.equal(doc.result.count, 400)
  assert.equal(api.app.statusWaiters.size, 0)
})
