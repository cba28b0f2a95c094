import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { freePort } from '../helpers/free-port.js'
import { fileURLToPath } from 'node:url'
import type { RunningServer } from '../../src/server.js'
import { dropPrefix, http, realServer, REDIS_URL, tempDataDir, uniquePrefix, waitFor } from '../helpers/service-harness.js'

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url))
const prefix = uniquePrefix()
const servers: RunningServer[] = []
const children: ChildProcess[] = []

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await Promise.allSettled(servers.map(async (server) => await server.close()))
  await dropPrefix(prefix)
})


test('SIGTERM while scans run and wait: the running scan finishes within SHUTDOWN_GRACE, the queued ones are left to another instance, none is lost', async () => {
  const env = { REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_LOCK_DURATION: '5s', PARASCAN_PROGRESS_INTERVAL: '50ms' }
  const port = await freePort()
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent', PROTO_PARALLEL_MAX_WORKERS: '2', DATA_DIR: tempDataDir(), SHUTDOWN_GRACE: '20s' },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  children.push(child)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const base = `http://127.0.0.1:${port}`
  await waitFor(async () => await fetch(`${base}/readyz`).then((r) => r.ok ? true : undefined, () => undefined), 15_000, 50)

  const scan = (end: number) => ({ source: { type: 'range', start: 0, end }, pipeline: [{ processor: 'synthetic', params: { cost_us: 100 } }, { map: 'record' }] })
  const running = (await http(base, 'POST', '/v1/scans', scan(20_000))).json.id as string
  const queued = await Promise.all([1000, 2000, 3000].map(async (end) => (await http(base, 'POST', '/v1/scans', scan(end))).json.id as string))
  const before = await waitFor(async () => {
    const doc = (await http(base, 'GET', `/v1/scans/${running}`)).json
    return doc.status === 'running' && doc.progress.processed > 0 ? doc : undefined
  }, 15_000, 20)

  child.kill('SIGTERM')
  assert.equal(await exited, 0)
  const survivor = await realServer({ ...env, PARASCAN_CONCURRENCY: '1' })
  servers.push(survivor)
  const doc = (await http(survivor.url, 'GET', `/v1/scans/${running}`)).json
  assert.equal(doc.status, 'succeeded', 'finished before the instance exited')
  assert.equal(doc.started_at, before.started_at, 'in its first attempt')
  assert.equal(doc.result.count, 20_000)
  for (const [i, id] of queued.entries()) {
    const finished = await waitFor(async () => {
      const status = (await http(survivor.url, 'GET', `/v1/scans/${id}`)).json
      return status.status === 'succeeded' ? status : undefined
    }, 20_000, 50)
    assert.equal(finished.result.count, (i + 1) * 1000)
  }
})
