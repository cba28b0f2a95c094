import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import type { RunningServer } from '../../src/server.js'
import { realServer, waitFor } from '../helpers/service-harness.js'
import { PrivateRedis } from '../helpers/private-redis.js'

const servers: RunningServer[] = []
let redis: PrivateRedis | undefined

after(async () => {
  await Promise.allSettled(servers.map(async (server) => await server.close()))
  await redis?.close()
})

async function timed<T> (fn: () => Promise<T>): Promise<[T, number]> {
  const began = Date.now()
  const value = await fn()
  return [value, Date.now() - began]
}

test('Redis killed and restarted: requests fail fast with 503 meanwhile, no accepted scan is lost, instances reconnect and run new scans', async () => {
  redis = await PrivateRedis.start({ aof: true })
  const env = { REDIS_URL: redis.url, PARASCAN_LOCK_DURATION: '3s', PARASCAN_PROGRESS_INTERVAL: '100ms' }
  const one = await realServer(env)
  const two = await realServer(env)
  servers.push(one, two)
  const inject = async (server: RunningServer, method: 'GET' | 'POST', url: string, payload?: object) => await server.app.inject({ method, url, payload })

  const scans = Array.from({ length: 6 }, (_, i) => ({
    source: { type: 'range', start: 0, end: 20_000 + i },
    pipeline: [{ filter: 'record % 3 == 0' }, { processor: 'synthetic', params: { cost_us: 150 } }]
  }))
  const accepted: Array<{ id: string, expected: number }> = []
  for (const [i, scan] of scans.entries()) {
    const response = await inject(i % 2 === 0 ? one : two, 'POST', '/v1/scans', scan)
    assert.equal(response.statusCode, 202, response.body)
    accepted.push({ id: response.json().id, expected: Math.ceil((20_000 + i) / 3) })
  }
  await waitFor(async () => (await inject(one, 'GET', `/v1/scans/${accepted[0].id}`)).json().status === 'running' ? true : undefined, 10_000)

  await redis.kill()
  const [submit, submitMs] = await timed(async () => await inject(one, 'POST', '/v1/scans', scans[0]))
  assert.equal(submit.statusCode, 503, submit.body)
  assert.equal(submit.json().code, 'PARASCAN_UNAVAILABLE')
  assert.match(String(submit.headers['content-type']), /^application\/problem\+json/)
  assert.equal(submit.headers['retry-after'], '2')
  assert.ok(submitMs < 1500, `submit answered after ${submitMs} ms`)
  for (const url of [`/v1/scans/${accepted[1].id}`, `/v1/scans/${accepted[1].id}/results`, '/v1/scans', '/readyz']) {
    const [read, readMs] = await timed(async () => await inject(two, 'GET', url))
    assert.equal(read.statusCode, 503, `${url}: ${read.body}`)
    assert.equal(read.headers['retry-after'], '2')
    assert.ok(readMs < 2500, `${url} answered after ${readMs} ms`)
  }
  await new Promise((resolve) => setTimeout(resolve, 500))

  await redis.restart()
  for (const server of [one, two]) {
    await waitFor(async () => (await inject(server, 'GET', '/readyz')).statusCode === 200 ? true : undefined, 15_000, 100)
  }
  for (const { id, expected } of accepted) {
    const doc = await waitFor(async () => {
      const response = await inject(one, 'GET', `/v1/scans/${id}`)
      const body = response.statusCode === 200 ? response.json() : undefined
      return body !== undefined && ['succeeded', 'failed', 'cancelled'].includes(body.status) ? body : undefined
    }, 30_000, 100)
    assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
    assert.equal(doc.result.count, expected)
  }
  const after = await inject(two, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 1000 } })
  assert.equal(after.statusCode, 202, after.body)
  const doc = await waitFor(async () => {
    const body = (await inject(one, 'GET', `/v1/scans/${after.json().id}`)).json()
    return body.status === 'succeeded' ? body : undefined
  }, 15_000)
  assert.equal(doc.result.count, 1000)
})
