import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { appendFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stateDirHarness } from '../helpers/state-dir-harness.js'
import { build, http, waitFor } from '../helpers/service-harness.js'
import { finished, readAll, startInstance } from '../helpers/cluster-harness.js'
import { finished as finishedAs, submit } from '../helpers/scan-client.js'
import { loadServiceConfig } from '../../src/config/service-config.js'

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url))
const { children, stateDir } = stateDirHarness()

/** Starts the service expecting it to refuse: its exit code and standard error. */
async function refusedStart (env: Record<string, string>): Promise<{ code: number | null, stderr: string }> {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, PARASCAN_PORT: '0', PARASCAN_LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
  children.push(child)
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  return { code, stderr }
}

test('PARASCAN_STATE_DIR: a second instance on the same directory is refused naming the first; a damaged directory stops the start with one line naming it', async () => {
  const dir = stateDir()
  const first = await startInstance({ PARASCAN_STATE_DIR: dir }, children)
  const second = await refusedStart({ PARASCAN_STATE_DIR: dir })
  assert.equal(second.code, 1)
  assert.match(second.stderr, new RegExp(`^parascan: cannot start: Invalid environment variable PARASCAN_STATE_DIR: ${dir}: it is in use by process ${first.pid} on `))
  assert.equal((await http(first.url, 'GET', '/readyz')).status, 200, 'the first instance is not disturbed')

  const scan = (await http(first.url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 10 } })).json
  assert.equal((await finished(first.url, scan.id)).status, 'succeeded')
  first.child.kill('SIGTERM')
  assert.equal(await first.exited, 0)
  const [journal] = readdirSync(join(dir, 'scans')).filter((file) => file.endsWith('.jsonl'))
  appendFileSync(join(dir, 'scans', journal), '\nnot json\n{"t":"record"}\n')
  const damaged = await refusedStart({ PARASCAN_STATE_DIR: dir })
  assert.equal(damaged.code, 1)
  assert.match(damaged.stderr, /^parascan: cannot start: Invalid environment variable PARASCAN_STATE_DIR: .*line 2 of .*\.jsonl is damaged/)
  assert.equal(damaged.stderr.trim().split('\n').length, 1, damaged.stderr)

  const unwritable = await refusedStart({ PARASCAN_STATE_DIR: '/proc/parascan-state' })
  assert.equal(unwritable.code, 1)
  assert.match(unwritable.stderr, /PARASCAN_STATE_DIR: \/proc\/parascan-state: /)
})

test('PARASCAN_STATE_DIR: a deleted scan stays deleted after SIGKILL and restart, with its Idempotency-Key; the others keep their results', async () => {
  const dir = stateDir()
  const env = { PARASCAN_STATE_DIR: dir }
  const first = await startInstance(env, children)
  const body = { source: { type: 'range', start: 0, end: 50 }, pipeline: [{ map: 'record + 1' }], ordered: true }
  const deleted = (await http(first.url, 'POST', '/v1/scans', body, { 'idempotency-key': 'gone' })).json
  const kept = (await http(first.url, 'POST', '/v1/scans', body, { 'idempotency-key': 'kept' })).json
  assert.equal((await finished(first.url, deleted.id)).status, 'succeeded')
  assert.equal((await finished(first.url, kept.id)).status, 'succeeded')
  assert.equal((await http(first.url, 'DELETE', `/v1/scans/${deleted.id}`)).status, 204)
  first.child.kill('SIGKILL')
  await first.exited

  const second = await startInstance(env, children)
  assert.equal((await http(second.url, 'GET', `/v1/scans/${deleted.id}`)).status, 404)
  const again = (await http(second.url, 'POST', '/v1/scans', body, { 'idempotency-key': 'gone' })).json
  assert.notEqual(again.id, deleted.id)
  assert.equal((await http(second.url, 'POST', '/v1/scans', body, { 'idempotency-key': 'kept' })).json.id, kept.id)
  assert.deepEqual(await readAll(second.url, kept.id), Array.from({ length: 50 }, (_, i) => i + 1))
  const list = (await http(second.url, 'GET', '/v1/scans?limit=10')).json
  assert.deepEqual(list.items.map((item: any) => item.id), [again.id, kept.id])
})

test('PARASCAN_STATE_DIR is for embedded mode only', () => {
  assert.throws(() => loadServiceConfig({ PARASCAN_STATE_DIR: '/tmp/x', PARASCAN_REDIS_URL: 'redis://127.0.0.1:6379' }), /PARASCAN_STATE_DIR: is for embedded mode/)
  assert.equal(loadServiceConfig({ PARASCAN_STATE_DIR: ' /tmp/x ' }).stateDir, '/tmp/x')
})

test('PARASCAN_STATE_DIR that cannot be written: a submit is a 503 naming it and the cause, a running scan fails with that error and its end is kept; both work again once it can be written', async (t) => {
  const dir = stateDir()
  const scans = join(dir, 'scans')
  const env = { PARASCAN_STATE_DIR: dir, PROTO_PARALLEL_MAX_WORKERS: '1' }
  let app = await build(t, { env })
  const submit = async (): Promise<any> => await app.inject({ method: 'POST', url: '/v1/scans', payload: { source: { type: 'range', start: 0, end: 5 } } })
  // Its first result comes after about a second, once the directory cannot be written.
  const slow = { source: { type: 'range', start: 0, end: 1000 }, pipeline: [{ processor: 'synthetic', params: { cost_us: 1000 } }, { filter: 'record >= 900' }] }
  const running = (await app.inject({ method: 'POST', url: '/v1/scans', payload: slow })).json()
  if (spawnSync('chattr', ['+i', scans]).status !== 0) return t.skip('chattr +i is not available here (it needs root on ext4)')
  try {
    const refused = await submit()
    assert.equal(refused.statusCode, 503)
    assert.equal(refused.json().code, 'PARASCAN_UNAVAILABLE')
    assert.match(refused.json().detail, new RegExp(`cannot store the scan in PARASCAN_STATE_DIR \\(${dir}\\): EPERM`))
    const failed = await waitFor(async () => {
      const doc = (await app.inject({ url: `/v1/scans/${running.id}` })).json()
      return doc.status === 'queued' || doc.status === 'running' ? undefined : doc
    }, 30_000)
    assert.equal(failed.status, 'failed')
    assert.equal(failed.error.code, 'PARASCAN_UNAVAILABLE')
    assert.match(failed.error.message, /cannot write results in PARASCAN_STATE_DIR .*EPERM/)
  } finally {
    spawnSync('chattr', ['-i', scans])
  }
  assert.equal((await submit()).statusCode, 202)
  await app.close()
  app = await build(t, { env })
  assert.equal((await app.inject({ url: `/v1/scans/${running.id}` })).json().status, 'failed', 'the end of the scan was stored without a new file')
  const list = (await app.inject({ url: '/v1/scans' })).json()
  assert.equal(list.items.length, 2)
})

test('PARASCAN_STATE_DIR: the results a tenant stored before a restart count toward PARASCAN_TENANT_STORAGE_BYTES after it; a submit over the quota is refused', async () => {
  const dir = stateDir()
  const key = 'tenant-q-key-0123456789'
  const q = { authorization: `Bearer ${key}` }
  const env = { PARASCAN_STATE_DIR: dir, PARASCAN_API_KEYS: `q:${key}`, PARASCAN_TENANT_STORAGE_BYTES: '7' }
  const tiny = { source: { type: 'inline', records: ['abc'] } }
  const first = await startInstance(env, children)
  const id = await submit(first.url, tiny, q)
  assert.equal((await finishedAs(first.url, id, q)).status, 'succeeded')
  assert.equal((await http(first.url, 'POST', '/v1/scans', tiny, q)).status, 429, 'the 7 bytes of ["abc"] fill the quota')
  first.child.kill('SIGKILL')
  await first.exited
  const second = await startInstance(env, children)
  const refused = await http(second.url, 'POST', '/v1/scans', tiny, q)
  assert.equal(refused.status, 429, JSON.stringify(refused.json))
  assert.equal(refused.json.code, 'PARASCAN_STORAGE_QUOTA_EXCEEDED')
  assert.equal((await http(second.url, 'DELETE', `/v1/scans/${id}`, undefined, q)).status, 204)
  assert.equal((await finishedAs(second.url, await submit(second.url, tiny, q), q)).status, 'succeeded', 'deleting the restored scan frees its bytes')
  second.child.kill('SIGTERM')
  assert.equal(await second.exited, 0)
})
