import { test } from 'node:test'
import assert from 'node:assert/strict'
import { dropPrefix, http, REDIS_URL, uniquePrefix, waitFor } from '../helpers/service-harness.js'
import { finished, serverStarter, submit } from '../helpers/scan-client.js'

const { start, onClose } = serverStarter()

const keyA = 'tenant-a-key-0123456789'
const keyB = 'tenant-b-key-0123456789'
const a = { authorization: `Bearer ${keyA}` }
const b = { authorization: `Bearer ${keyB}` }
const scan = (end: number, costUs: number): object => ({ source: { type: 'range', start: 0, end }, pipeline: [{ processor: 'synthetic', params: { cost_us: costUs } }] })

async function modeEnv (mode: string): Promise<Record<string, string>> {
  const env = { PARASCAN_API_KEYS: `a:${keyA},b:${keyB}` }
  if (mode === 'embedded') return env
  const prefix = uniquePrefix()
  onClose(async () => await dropPrefix(prefix))
  return { REDIS_URL, PARASCAN_KEY_PREFIX: prefix, ...env }
}

async function status (base: string, id: string, headers: Record<string, string>): Promise<any> {
  return (await http(base, 'GET', `/v1/scans/${id}`, undefined, headers)).json
}

/** Every record of [0, total) once, as the synthetic processor passes it through. */
async function assertExact (base: string, id: string, headers: Record<string, string>, total: number): Promise<void> {
  const response = await fetch(`${base}/v1/scans/${id}/results`, { headers: { ...headers, accept: 'application/x-ndjson' } })
  assert.equal(response.status, 200)
  const seen = new Uint8Array(total)
  for (const line of (await response.text()).split('\n')) if (line !== '') seen[Number(line)]++
  assert.equal(seen.findIndex((n) => n !== 1), -1, 'every record once')
}

for (const mode of ['embedded', 'redis']) {
  test(`${mode}: tenant b's short scan starts and ends on the same instance while tenant a's long scans hold its pool and its job slot; a's scan stays exact`, async () => {
    const server = await start(await modeEnv(mode))
    // About 30 s of CPU each on a pool of two threads.
    const long = 60_000
    const first = await submit(server.url, scan(long, 500), a)
    const second = await submit(server.url, scan(long, 500), a)
    await waitFor(async () => {
      const doc = await status(server.url, first, a)
      return doc.status === 'running' && doc.progress.processed > 0 ? true : undefined
    }, 60_000, 50)
    const began = Date.now()
    const short = await finished(server.url, await submit(server.url, scan(200, 500), b), b, 120_000)
    const waited = Date.now() - began
    assert.equal(short.status, 'succeeded')
    assert.equal(short.result.count, 200)
    const longNow = await status(server.url, first, a)
    assert.equal(longNow.status, 'running', `b's scan ended after ${waited} ms while a's first scan ran (${longNow.progress.processed} of ${long} records)`)
    assert.equal((await status(server.url, second, a)).status, 'queued', 'a\'s second scan waits: a runs one scan here while its first runs')
    assert.equal((await http(server.url, 'POST', `/v1/scans/${second}/cancel`, undefined, a)).status, 202)
    const done = await finished(server.url, first, a, 600_000)
    assert.equal(done.status, 'succeeded')
    assert.equal(done.result.count, long)
    await assertExact(server.url, first, a, long)
  })

  test(`${mode}: tenant a's twenty queued tiny scans do not keep tenant b's scan, submitted after them, behind them`, async () => {
    const server = await start(await modeEnv(mode))
    const many = await Promise.all(Array.from({ length: 20 }, async () => await submit(server.url, scan(2000, 200), a)))
    const short = await finished(server.url, await submit(server.url, scan(200, 200), b), b, 120_000)
    assert.equal(short.status, 'succeeded')
    const left = (await Promise.all(many.map(async (id) => (await status(server.url, id, a)).status))).filter((s) => s === 'queued' || s === 'running')
    assert.ok(left.length >= 10, `b's scan ended with ${left.length} of a's twenty scans still to run`)
    for (const id of many) assert.equal((await finished(server.url, id, a, 300_000)).status, 'succeeded')
  })
}
