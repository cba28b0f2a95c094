import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { http, realServer } from '../helpers/service-harness.js'
import { finished } from '../helpers/cluster-harness.js'

test('an NDJSON download whose client never reads does not hold up close(); /healthz answers meanwhile', async () => {
  const server = await realServer()
  const pad = 'x'.repeat(200)
  const id = (await http(server.url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 100_000 }, ordered: true, pipeline: [{ map: `{"n": record, "pad": "${pad}"}` }] })).json.id
  assert.equal((await finished(server.url, id, 60_000)).status, 'succeeded')
  const url = new URL(server.url)
  const sockets: net.Socket[] = []
  for (let i = 0; i < 3; i++) {
    const socket = net.connect(Number(url.port), url.hostname)
    socket.on('error', () => {})
    socket.write(`GET /v1/scans/${id}/results HTTP/1.1\r\nHost: x\r\nAccept: application/x-ndjson\r\n\r\n`)
    socket.pause()
    sockets.push(socket)
  }
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    assert.equal((await http(server.url, 'GET', '/healthz')).status, 200)
    const began = performance.now()
    const closed = await Promise.race([server.close().then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 15_000))])
    assert.ok(closed, 'close() still waiting after 15 s')
    assert.ok(performance.now() - began < 15_000)
  } finally {
    for (const socket of sockets) socket.destroy()
  }
})
