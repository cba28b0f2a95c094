import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ApiClient } from '../../src/cli/api-client.js'
import { waitForScan } from '../../src/cli/wait-for-scan.js'

test('the CLI asks the server to wait for the end; a server that answers at once anyway is asked again an interval after the request before, not in a busy loop', async () => {
  const arrivals: Array<{ url: string, at: number }> = []
  const server = createServer((request, response) => {
    arrivals.push({ url: request.url ?? '', at: performance.now() })
    const status = arrivals.length < 6 ? 'running' : 'succeeded'
    response.writeHead(200, { 'content-type': 'application/json' })
    response.end(JSON.stringify({ id: 'x', status, progress: { total: 1, processed: 0, matched: 0, skipped: 0, fraction: 0, records_per_second: 0, eta_seconds: null } }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const { port } = server.address() as AddressInfo
    const seen: string[] = []
    const final = await waitForScan(new ApiClient({ url: `http://127.0.0.1:${port}` }), 'x', { update: (s) => seen.push(s.status), stop: () => {} }, 100)
    assert.equal(final.status, 'succeeded')
    assert.deepEqual(seen, ['running', 'running', 'running', 'running', 'running', 'succeeded'])
    assert.equal(arrivals.length, 6)
    for (const { url } of arrivals) assert.equal(url, '/v1/scans/x?wait=100ms')
    // Request starts are an interval apart; arrivals also carry each request's own latency (the first one's the connection's), hence half.
    for (let i = 2; i < arrivals.length; i++) assert.ok(arrivals[i].at - arrivals[i - 1].at >= 50, `request ${i} came ${arrivals[i].at - arrivals[i - 1].at} ms after the one before`)
  } finally {
    server.close()
  }
})

test('a server with no room for another waiting request is asked for the status without wait, and the scan is followed to its end', async () => {
  const urls: string[] = []
  const server = createServer((request, response) => {
    urls.push(request.url ?? '')
    if ((request.url ?? '').includes('wait=')) {
      response.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' })
      response.end(JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, code: 'PARASCAN_TOO_MANY_WAITERS', detail: 'Too many status requests are waiting on this instance' }))
      return
    }
    const status = urls.length < 6 ? 'running' : 'succeeded'
    response.writeHead(200, { 'content-type': 'application/json' })
    response.end(JSON.stringify({ id: 'x', status, progress: { total: 1, processed: 0, matched: 0, skipped: 0, fraction: 0, records_per_second: 0, eta_seconds: null } }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const { port } = server.address() as AddressInfo
    const final = await waitForScan(new ApiClient({ url: `http://127.0.0.1:${port}` }), 'x', { update: () => {}, stop: () => {} }, 20)
    assert.equal(final.status, 'succeeded')
    assert.deepEqual(urls, ['/v1/scans/x?wait=20ms', '/v1/scans/x', '/v1/scans/x?wait=20ms', '/v1/scans/x', '/v1/scans/x?wait=20ms', '/v1/scans/x'])
  } finally {
    server.close()
  }
})

test('an interval past the longest Node timer still waits instead of timing out at once', async () => {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' })
    response.end(JSON.stringify({ id: 'x', status: 'succeeded', progress: { total: 1, processed: 1, matched: 0, skipped: 0, fraction: 1, records_per_second: 0, eta_seconds: null } }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const { port } = server.address() as AddressInfo
    const final = await waitForScan(new ApiClient({ url: `http://127.0.0.1:${port}` }), 'x', { update: () => {}, stop: () => {} }, 2 ** 31 - 100)
    assert.equal(final.status, 'succeeded')
  } finally {
    server.close()
  }
})
