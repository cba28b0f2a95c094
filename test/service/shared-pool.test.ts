import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import type { RunningServer } from '../../src/server.js'
import { realServer, waitFor } from '../helpers/service-harness.js'

let server: RunningServer

before(async () => {
  // One thread: a running scan keeps its last thread, so that the next scan waits for one.
  server = await realServer({ PARASCAN_CONCURRENCY: '2', PARASCAN_PROGRESS_INTERVAL: '100ms', PROTO_PARALLEL_MAX_WORKERS: '1' })
})
after(async () => { await server.close() })

async function submit (body: object): Promise<string> {
  const response = await server.app.inject({ method: 'POST', url: '/v1/scans', payload: body })
  assert.equal(response.statusCode, 202, response.body)
  return response.json().id
}

async function status (id: string): Promise<any> {
  return (await server.app.inject({ method: 'GET', url: `/v1/scans/${id}` })).json()
}

async function settled (id: string, timeoutMs: number): Promise<any> {
  return await waitFor(async () => {
    const doc = await status(id)
    return ['succeeded', 'failed', 'cancelled'].includes(doc.status) ? doc : undefined
  }, timeoutMs)
}

const long = { source: { type: 'range', start: 0, end: 10_000_000 }, pipeline: [{ processor: 'synthetic', params: { cost_us: 50 } }], ordered: true }

test('with two scans taken at a time, cancel and timeout of the one waiting for the pool answer at once, while the running one goes on', async () => {
  const running = await submit(long)
  await waitFor(async () => {
    const doc = await status(running)
    return doc.status === 'running' && doc.progress.processed > 0 ? doc : undefined
  }, 60_000)
  const waiting = await submit({ source: { type: 'range', start: 0, end: 1000 } })
  await waitFor(async () => (await status(waiting)).status === 'running' ? true : undefined, 60_000)
  const began = performance.now()
  assert.equal((await server.app.inject({ method: 'POST', url: `/v1/scans/${waiting}/cancel` })).statusCode, 202)
  const cancelled = await settled(waiting, 5_000)
  assert.equal(cancelled.status, 'cancelled')
  assert.ok(performance.now() - began < 3_000, `cancelled after ${performance.now() - began} ms`)

  const timed = await submit({ source: { type: 'range', start: 0, end: 1000 }, timeout_seconds: 0.5 })
  const timedOut = await settled(timed, 5_000)
  assert.equal(timedOut.status, 'failed')
  assert.equal(timedOut.error.code, 'PARASCAN_SCAN_TIMEOUT')
  assert.equal((await status(running)).status, 'running', 'the scan ahead was not disturbed')
  assert.equal((await server.app.inject({ method: 'POST', url: `/v1/scans/${running}/cancel` })).statusCode, 202)
  assert.equal((await settled(running, 10_000)).status, 'cancelled')
})
