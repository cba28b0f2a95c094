import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { appendFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stateDirHarness } from '../helpers/state-dir-harness.js'
import { http } from '../helpers/service-harness.js'
import { finished, readAll, startInstance } from '../helpers/cluster-harness.js'
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
