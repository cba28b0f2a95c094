import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { finished, startInstance } from '../helpers/cluster-harness.js'
import { http } from '../helpers/service-harness.js'

const children: ChildProcess[] = []
after(() => { for (const child of children) child.kill('SIGKILL') })

const MiB = 2 ** 20
const RECORDS = 500
// Each result is a list of 2,000 items, about 107 KB of JSON: 53 MB in all, in pages as large as the engine's batches.
const ten = Array.from({ length: 10 }, () => 'record').join(' + ')
const BIG_RESULTS = {
  source: { type: 'range', start: 0, end: RECORDS },
  pipeline: [{ map: `[record, '${'abcdefghij'.repeat(10)}']` }, { map: ten }, { map: ten }, { map: ten }]
}

async function serverRss (url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const match = /^process_resident_memory_bytes (\d+)/m.exec(text)
  assert.ok(match !== null, 'process_resident_memory_bytes in /metrics')
  return Number(match[1])
}

function download (url: string, id: string): Socket {
  const { port } = new URL(url)
  const socket = connect(Number(port), '127.0.0.1')
  // HTTP/1.0: the body comes unchunked and ends with the connection.
  socket.write(`GET /v1/scans/${id}/results HTTP/1.0\r\nHost: x\r\nAccept: application/x-ndjson\r\n\r\n`)
  return socket
}

test('an NDJSON download read slowly, or not at all, over a real socket, and 20 pages of one result read at once keep the server\'s memory within a few stored pages', async () => {
  const instance = await startInstance({ PROTO_PARALLEL_MAX_WORKERS: '2' }, children)
  const { json } = await http(instance.url, 'POST', '/v1/scans', BIG_RESULTS)
  const doc = await finished(instance.url, json.id as string, 120_000)
  assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
  assert.equal(doc.result.count, RECORDS)
  await sleep(1000)
  const before = await serverRss(instance.url)
  let peak = before
  const sampler = setInterval(() => { void serverRss(instance.url).then((rss) => { peak = Math.max(peak, rss) }, () => {}) }, 100)
  try {
    const idle = download(instance.url, json.id as string)
    idle.pause()
    await sleep(2000)
    idle.destroy()

    const slow = download(instance.url, json.id as string)
    let bytes = 0
    let tail = ''
    const seen = new Set<number>()
    await new Promise<void>((resolve, reject) => {
      let body = false
      slow.on('data', (chunk: Buffer) => {
        bytes += chunk.length
        let text = tail + chunk.toString('latin1')
        if (!body) {
          const head = text.indexOf('\r\n\r\n')
          if (head === -1) { tail = text; return }
          assert.match(text.slice(0, head), /^HTTP\/1\.[01] 200 /)
          body = true
          text = text.slice(head + 4)
        }
        const lines = text.split('\n')
        tail = lines.pop() ?? ''
        for (const line of lines) seen.add((JSON.parse(line) as number[])[0])
        if (bytes < 16 * MiB) {
          slow.pause()
          setTimeout(() => slow.resume(), 5)
        }
      })
      slow.once('end', resolve)
      slow.once('error', reject)
    })
    assert.equal(tail, '')
    assert.equal(seen.size, RECORDS, 'every result came, once a line')

    const pages = await Promise.all(Array.from({ length: 20 }, async () => await http(instance.url, 'GET', `/v1/scans/${json.id as string}/results?limit=1`)))
    for (const page of pages) assert.equal(page.status, 200)
  } finally {
    clearInterval(sampler)
  }
  const grew = peak - before
  process.stdout.write(`# NDJSON download of 53 MB read slowly, 20 pages of one result at once: server RSS grew by ${Math.round(grew / MiB)} MiB\n`)
  assert.ok(grew < 64 * MiB, `server RSS grew by ${Math.round(grew / MiB)} MiB`)
  assert.equal((await http(instance.url, 'GET', '/healthz')).status, 200)
})
