import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { freePort } from '../helpers/free-port.js'
import { fileURLToPath } from 'node:url'
import type { RunningServer } from '../../src/server.js'
import { dropPrefix, http, realServer, REDIS_URL, tempDataDir, uniquePrefix, waitFor, isReady } from '../helpers/service-harness.js'

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url))
const prefixes: string[] = []
const servers: RunningServer[] = []
const children: ChildProcess[] = []

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await Promise.allSettled(servers.map(async (server) => await server.close()))
  for (const prefix of prefixes) await dropPrefix(prefix)
})


async function childInstance (env: Record<string, string>): Promise<{ child: ChildProcess, url: string, exited: Promise<number | null> }> {
  const port = await freePort()
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent', PROTO_PARALLEL_MAX_WORKERS: '2', DATA_DIR: tempDataDir(), ...env },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  children.push(child)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const url = `http://127.0.0.1:${port}`
  await waitFor(async () => await isReady(url), 60_000, 50)
  return { child, url, exited }
}

const scan = {
  source: { type: 'range', start: 0, end: 40000 },
  pipeline: [{ map: 'record * 3' }, { processor: 'synthetic', params: { cost_us: 100 } }],
  ordered: true
}
const expected = Array.from({ length: 40000 }, (_, i) => i * 3)

async function readAll (base: string, id: string): Promise<unknown[]> {
  const items: unknown[] = []
  let cursor: string | undefined
  for (;;) {
    const { status, json } = await http(base, 'GET', `/v1/scans/${id}/results?limit=5000${cursor === undefined ? '' : `&cursor=${cursor}`}`)
    assert.equal(status, 200, JSON.stringify(json))
    items.push(...json.items)
    if (json.complete) return items
    cursor = json.next_cursor
    if (json.items.length === 0) await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function startedWithResults (base: string, id: string): Promise<{ next_cursor: string }> {
  return await waitFor(async () => {
    const page = (await http(base, 'GET', `/v1/scans/${id}/results?limit=100`)).json
    return page.items?.length > 0 ? page : undefined
  }, 60_000, 50)
}

test('an instance killed with SIGKILL mid-scan: with PARASCAN_MAX_CRASHED_ATTEMPTS=2 another instance takes the scan over and finishes it exactly', async () => {
  const prefix = uniquePrefix()
  prefixes.push(prefix)
  // An instance that dies mid-scan fails its scan by default (PARASCAN_MAX_CRASHED_ATTEMPTS=1); with 2 another instance runs it again.
  const env = { REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_LOCK_DURATION: '2s', PARASCAN_MAX_CRASHED_ATTEMPTS: '2' }
  const doomed = await childInstance(env)
  const { json: accepted } = await http(doomed.url, 'POST', '/v1/scans', scan)
  const firstPage = await startedWithResults(doomed.url, accepted.id)
  const survivor = await realServer({ ...env, PARASCAN_PROGRESS_INTERVAL: '100ms' })
  servers.push(survivor)
  const before = (await http(survivor.url, 'GET', `/v1/scans/${accepted.id}`)).json
  assert.equal(before.status, 'running')
  assert.ok(before.progress.processed < 40000, 'the scan ended before the kill; make it slower')

  doomed.child.kill('SIGKILL')
  await doomed.exited

  const doc = await waitFor(async () => {
    const { json } = await http(survivor.url, 'GET', `/v1/scans/${accepted.id}`)
    return json.status === 'running' || json.status === 'queued' ? undefined : json
  }, 90_000, 100)
  assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
  assert.deepEqual(doc.result, { count: 40000, truncated: false, partial: false })
  assert.equal(doc.progress.processed, 40000)
  assert.deepEqual(await readAll(survivor.url, accepted.id), expected)

  const stale = await http(survivor.url, 'GET', `/v1/scans/${accepted.id}/results?cursor=${firstPage.next_cursor}`)
  assert.equal(stale.status, 409)
  assert.equal(stale.json.code, 'PARASCAN_RESULTS_RESTARTED')
})

test('SIGTERM hands a running scan back to the queue after SHUTDOWN_GRACE and exits 0', async () => {
  const prefix = uniquePrefix()
  prefixes.push(prefix)
  const env = { REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_LOCK_DURATION: '5s' }
  const leaving = await childInstance({ ...env, SHUTDOWN_GRACE: '100ms' })
  const { json: accepted } = await http(leaving.url, 'POST', '/v1/scans', scan)
  await startedWithResults(leaving.url, accepted.id)
  const survivor = await realServer(env)
  servers.push(survivor)

  const stoppedAt = Date.now()
  leaving.child.kill('SIGTERM')
  assert.equal(await leaving.exited, 0)
  const doc = await waitFor(async () => {
    const { json } = await http(survivor.url, 'GET', `/v1/scans/${accepted.id}`)
    return json.status === 'running' || json.status === 'queued' ? undefined : json
  }, 90_000, 100)
  assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
  assert.ok(Date.parse(doc.started_at) >= stoppedAt - 1000, 'the survivor ran a new attempt')
  assert.deepEqual(await readAll(survivor.url, accepted.id), expected)
})
