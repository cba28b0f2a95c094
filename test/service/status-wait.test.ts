import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { RunningServer } from '../../src/server.js'
import { http, waitFor } from '../helpers/service-harness.js'
import { finished, serverStarter, submit } from '../helpers/scan-client.js'

const { start } = serverStarter()

const PROCESSORS_DIR = fileURLToPath(new URL('../fixtures/processors/', import.meta.url))
/** Records that each block their thread `ms` without using CPU, so that a scan runs as long as a test needs. */
const napScan = (records: number, ms: number) => ({ source: { type: 'range', start: 0, end: records }, pipeline: [{ processor: 'sleep', params: { ms } }] })

async function status (server: RunningServer, id: string, query = ''): Promise<{ status: number, headers: Headers, json: any }> {
  return await http(server.url, 'GET', `/v1/scans/${id}${query}`)
}

async function running (server: RunningServer, id: string): Promise<void> {
  await waitFor(async () => (await status(server, id)).json.status === 'running' ? true : undefined, 20_000)
}

test('a status request with wait answers when its scan ends, with the final document', async () => {
  const server = await start({ PROCESSORS_DIR })
  const id = await submit(server.url, napScan(40, 20))
  const answer = await status(server, id, '?wait=60s')
  assert.equal(answer.status, 200)
  assert.equal(answer.json.status, 'succeeded')
  assert.equal(answer.json.result.count, 40)
  assert.equal(answer.headers.get('retry-after'), null)
  assert.equal(server.app.statusWaiters.size, 0)
})

test('a finished scan is answered at once, whatever the wait', async () => {
  const server = await start({ PARASCAN_MAX_STATUS_WAIT: '1h' })
  const id = await submit(server.url, { source: { type: 'range', start: 0, end: 10 } })
  await finished(server.url, id)
  const response = await fetch(`${server.url}/v1/scans/${id}?wait=1h`, { signal: AbortSignal.timeout(20_000) })
  assert.equal(response.status, 200)
  assert.equal((await response.json() as { status: string }).status, 'succeeded')
})

test('a wait that runs out answers the current status with Retry-After; waits above PARASCAN_MAX_STATUS_WAIT are cut to it', async () => {
  const server = await start({ PROCESSORS_DIR, PARASCAN_MAX_STATUS_WAIT: '300ms' })
  const id = await submit(server.url, napScan(100_000, 50))
  await running(server, id)
  for (const wait of ['200ms', '1', '99999999999999999999', '24h']) {
    const response = await fetch(`${server.url}/v1/scans/${id}?wait=${wait}`, { signal: AbortSignal.timeout(20_000) })
    assert.equal(response.status, 200, wait)
    assert.equal((await response.json() as { status: string }).status, 'running', wait)
    assert.equal(response.headers.get('retry-after'), '1', wait)
  }
  assert.equal((await http(server.url, 'POST', `/v1/scans/${id}/cancel`)).status, 202)
  assert.equal(server.app.statusWaiters.size, 0)
})

test('waits that are not durations are a 400 problem naming wait; 0 answers at once', async () => {
  const server = await start({ PROCESSORS_DIR })
  const id = await submit(server.url, napScan(100_000, 50))
  for (const wait of ['-1', 'abc', '', '1e3', 'NaN', '-5s', '10y', '1.5.2', '0x10', ' ']) {
    const answer = await status(server, id, `?wait=${encodeURIComponent(wait)}`)
    assert.equal(answer.status, 400, `wait=${JSON.stringify(wait)}: ${JSON.stringify(answer.json)}`)
    assert.equal(answer.headers.get('content-type'), 'application/problem+json; charset=utf-8')
    assert.match(JSON.stringify(answer.json), /wait/)
  }
  const now = await status(server, id, '?wait=0')
  assert.equal(now.status, 200)
  assert.ok(['queued', 'running'].includes(now.json.status))
  assert.equal((await status(server, 'no-such-scan', '?wait=10s')).status, 404)
  assert.equal((await http(server.url, 'POST', `/v1/scans/${id}/cancel`)).status, 202)
})

test('a scan cancelled while waited on, queued or running, answers every waiter with cancelled', async () => {
  const server = await start({ PROCESSORS_DIR })
  const first = await submit(server.url, napScan(100_000, 50))
  const queued = await submit(server.url, napScan(100_000, 50))
  await running(server, first)
  assert.equal((await status(server, queued)).json.status, 'queued')
  const waits = [first, first, queued, queued].map(async (id) => await status(server, id, '?wait=60s'))
  await waitFor(async () => server.app.statusWaiters.size === 4 ? true : undefined)
  assert.equal((await http(server.url, 'DELETE', `/v1/scans/${first}`)).status, 409)
  assert.equal(server.app.statusWaiters.size, 4)
  for (const id of [queued, first]) assert.ok([200, 202].includes((await http(server.url, 'POST', `/v1/scans/${id}/cancel`)).status))
  for (const answer of await Promise.all(waits)) {
    assert.equal(answer.status, 200)
    assert.equal(answer.json.status, 'cancelled')
  }
  assert.equal(server.app.statusWaiters.size, 0)
  assert.equal((await http(server.url, 'DELETE', `/v1/scans/${first}`)).status, 204)
  const gone = await status(server, first, '?wait=60s')
  assert.equal(gone.status, 404)
  assert.equal(gone.json.code, 'PARASCAN_SCAN_NOT_FOUND')
})

test('past PARASCAN_MAX_STATUS_WAITERS a wait is a 503 PARASCAN_TOO_MANY_WAITERS with Retry-After; a status without wait still answers', async () => {
  const server = await start({ PROCESSORS_DIR, PARASCAN_MAX_STATUS_WAITERS: '1500', PARASCAN_MAX_CONNECTIONS: '3000' })
  const id = await submit(server.url, napScan(100_000, 50))
  await running(server, id)
  const waits = Array.from({ length: 1500 }, async () => await server.app.inject({ method: 'GET', url: `/v1/scans/${id}?wait=60s` }))
  await waitFor(async () => server.app.statusWaiters.size === 1500 ? true : undefined, 20_000)
  const refused = await status(server, id, '?wait=60s')
  assert.equal(refused.status, 503)
  assert.equal(refused.json.code, 'PARASCAN_TOO_MANY_WAITERS')
  assert.ok(Number(refused.headers.get('retry-after')) >= 1)
  assert.equal((await status(server, id)).json.status, 'running')
  assert.equal((await http(server.url, 'POST', `/v1/scans/${id}/cancel`)).status, 202)
  for (const answer of await Promise.all(waits)) {
    assert.equal(answer.statusCode, 200)
    assert.equal(answer.json().status, 'cancelled')
  }
  assert.equal(server.app.statusWaiters.size, 0)
})

test('waits take at most half of PARASCAN_MAX_CONNECTIONS: past that a wait is a 503 PARASCAN_TOO_MANY_WAITERS and other requests still get a connection', async () => {
  const server = await start({ PROCESSORS_DIR, PARASCAN_MAX_CONNECTIONS: '8' })
  const id = await submit(server.url, napScan(100_000, 50))
  await running(server, id)
  const { hostname, port } = new URL(server.url)
  const sockets = Array.from({ length: 4 }, () => {
    const socket = connect(Number(port), hostname)
    socket.on('error', () => {})
    socket.write(`GET /v1/scans/${id}?wait=60s HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`)
    return socket
  })
  try {
    await waitFor(async () => server.app.statusWaiters.size === 4 ? true : undefined, 20_000)
    const refused = await status(server, id, '?wait=60s')
    assert.equal(refused.status, 503)
    assert.equal(refused.json.code, 'PARASCAN_TOO_MANY_WAITERS')
    assert.equal((await status(server, id)).json.status, 'running')
  } finally {
    for (const socket of sockets) socket.destroy()
  }
  await waitFor(async () => server.app.statusWaiters.size === 0 ? true : undefined, 20_000)
  assert.equal((await http(server.url, 'POST', `/v1/scans/${id}/cancel`)).status, 202)
})

test('a client that leaves while its status is still being read keeps no waiter', async () => {
  const server = await start({ PROCESSORS_DIR })
  const id = await submit(server.url, napScan(100_000, 50))
  await running(server, id)
  // A slow store: every status read takes 200 ms, and the clients leave 20 ms into it.
  const read = server.app.scans.status.bind(server.app.scans)
  server.app.scans.status = async (...args) => { await new Promise((resolve) => setTimeout(resolve, 200)); return await read(...args) }
  const { hostname, port } = new URL(server.url)
  let reads = 0
  const counted = server.app.scans.status
  server.app.scans.status = async (...args) => {
    try {
      return await counted(...args)
    } finally {
      reads++
    }
  }
  for (let i = 0; i < 20; i++) {
    const socket = connect(Number(port), hostname)
    socket.on('error', () => {})
    socket.write(`GET /v1/scans/${id}?wait=60s HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`)
    setTimeout(() => socket.destroy(), 20)
  }
  // Every first read has ended; a waiter left behind would stay for the whole minute of its wait.
  await waitFor(async () => reads >= 20 ? true : undefined, 20_000)
  await waitFor(async () => server.app.statusWaiters.size === 0 ? true : undefined, 20_000)
  server.app.scans.status = read
  assert.equal((await http(server.url, 'POST', `/v1/scans/${id}/cancel`)).status, 202)
})

test('a long wait value is a 400 naming wait, at once', async () => {
  const server = await start({})
  const id = await submit(server.url, { source: { type: 'range', start: 0, end: 10 } })
  const answer = await status(server, id, `?wait=1${'+'.repeat(16_000)}x`)
  assert.equal(answer.status, 400)
  assert.match(JSON.stringify(answer.json), /wait/)
})

test('PARASCAN_MAX_STATUS_WAITERS=0 answers every wait at once', async () => {
  const server = await start({ PROCESSORS_DIR, PARASCAN_MAX_STATUS_WAITERS: '0' })
  const id = await submit(server.url, napScan(100_000, 50))
  await running(server, id)
  const response = await fetch(`${server.url}/v1/scans/${id}?wait=60s`, { signal: AbortSignal.timeout(20_000) })
  assert.equal((await response.json() as { status: string }).status, 'running')
  assert.equal((await http(server.url, 'POST', `/v1/scans/${id}/cancel`)).status, 202)
})

test('a client that disconnects mid-wait frees its waiter at once', async () => {
  const server = await start({ PROCESSORS_DIR })
  const id = await submit(server.url, napScan(100_000, 50))
  await running(server, id)
  const { hostname, port } = new URL(server.url)
  const sockets = Array.from({ length: 20 }, () => {
    const socket = connect(Number(port), hostname)
    socket.on('error', () => {})
    socket.write(`GET /v1/scans/${id}?wait=60s HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`)
    return socket
  })
  await waitFor(async () => server.app.statusWaiters.size === 20 ? true : undefined)
  for (const socket of sockets.slice(0, 10)) socket.destroy()
  await waitFor(async () => server.app.statusWaiters.size === 10 ? true : undefined)
  for (const socket of sockets.slice(10)) socket.end()
  await waitFor(async () => server.app.statusWaiters.size === 0 ? true : undefined)
  assert.equal((await status(server, id)).json.status, 'running')
  assert.equal((await http(server.url, 'POST', `/v1/scans/${id}/cancel`)).status, 202)
})

test('closing the server answers the waiting requests with the current status and leaves no waiter', async () => {
  const server = await start({ PROCESSORS_DIR, PARASCAN_SHUTDOWN_GRACE: '0s' })
  const id = await submit(server.url, napScan(100_000, 50))
  await running(server, id)
  const waits = Array.from({ length: 5 }, async () => await fetch(`${server.url}/v1/scans/${id}?wait=60s`, { signal: AbortSignal.timeout(30_000) }))
  await waitFor(async () => server.app.statusWaiters.size === 5 ? true : undefined)
  await server.close()
  for (const response of await Promise.all(waits)) {
    assert.equal(response.status, 200)
    assert.ok(['running', 'queued'].includes((await response.json() as { status: string }).status))
  }
  assert.equal(server.app.statusWaiters.size, 0)
})

test('a wait longer than PARASCAN_REQUEST_TIMEOUT and the keep-alive timeout answers 200 with the status, not a 408', async () => {
  const server = await start({ PROCESSORS_DIR, PARASCAN_REQUEST_TIMEOUT: '1s', PARASCAN_HEADERS_TIMEOUT: '1s', PARASCAN_KEEP_ALIVE_TIMEOUT: '1s', PARASCAN_MAX_STATUS_WAIT: '3s' })
  const id = await submit(server.url, napScan(100_000, 50))
  await running(server, id)
  const answer = await status(server, id, '?wait=10s')
  assert.equal(answer.status, 200)
  assert.equal(answer.json.status, 'running')
  assert.equal((await http(server.url, 'POST', `/v1/scans/${id}/cancel`)).status, 202)
})
