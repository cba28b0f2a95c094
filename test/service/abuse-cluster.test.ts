import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { dropPrefix, http, REDIS_URL, tempDataDir, uniquePrefix, waitFor, isReady } from '../helpers/service-harness.js'
import { serverStarter, finished, submit } from '../helpers/scan-client.js'
import { freePort } from '../helpers/free-port.js'
import { PrivateRedis } from '../helpers/private-redis.js'
import { PROCESSORS_DIR } from '../helpers/cluster-harness.js'

const { start, onClose } = serverStarter()

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url))

async function childInstance (env: Record<string, string>): Promise<{ child: ChildProcess, url: string, exited: Promise<string> }> {
  const port = await freePort()
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent', PROTO_PARALLEL_MAX_WORKERS: '2', DATA_DIR: tempDataDir(), ...env },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  onClose(async () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? String(code))))
  const url = `http://127.0.0.1:${port}`
  await waitFor(async () => await isReady(url), 60_000, 100)
  return { child, url, exited }
}

test('a scan that kills its instance is not run again: the next instance fails it with PARASCAN_INSTANCE_CRASHED and stays up (Redis)', async () => {
  const prefix = uniquePrefix()
  onClose(async () => await dropPrefix(prefix))
  const processorsDir = mkdtempSync(join(tmpdir(), 'parascan-plugins-'))
  writeFileSync(join(processorsDir, 'kill.mjs'), [
    'export const name = "kill_instance"',
    'export const schema = { safeParse: (value) => ({ success: true, data: value }) }',
    'export function process (record) { if (record === 500) globalThis.process.kill(globalThis.process.pid, "SIGKILL"); return record }'
  ].join('\n'))
  const env = { REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_LOCK_DURATION: '2s', PROCESSORS_DIR: processorsDir }
  const first = await childInstance(env)
  const id = await submit(first.url, { source: { type: 'range', start: 0, end: 1000 }, pipeline: [{ processor: 'kill_instance' }] })
  assert.equal(await first.exited, 'SIGKILL', 'the plug-in killed the first instance')
  const second = await childInstance(env)
  const doc = await finished(second.url, id, {}, 90_000)
  assert.equal(doc.status, 'failed')
  assert.equal(doc.error.code, 'PARASCAN_INSTANCE_CRASHED')
  assert.match(doc.error.message, /PARASCAN_MAX_CRASHED_ATTEMPTS/)
  assert.equal(second.child.exitCode, null, 'the second instance is still running')
  assert.equal((await http(second.url, 'GET', '/healthz')).status, 200)
  const next = await finished(second.url, await submit(second.url, { source: { type: 'range', start: 0, end: 100 } }))
  assert.equal(next.status, 'succeeded')
})

test('fairness: a tenant over its share of running scans (PARASCAN_MAX_RUNNING_SCANS_PER_TENANT=1) waits behind another tenant\'s scan that came later, and a scan put back starts within seconds once an instance has room for it (Redis, two instances)', async () => {
  const prefix = uniquePrefix()
  onClose(async () => await dropPrefix(prefix))
  const keyA = 'tenant-a-key-0123456789'
  const keyB = 'tenant-b-key-0123456789'
  const env = { REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_API_KEYS: `a:${keyA},b:${keyB}`, PARASCAN_LOCK_DURATION: '5s', PROCESSORS_DIR }
  const one = await start(env)
  const two = await start(env)
  const a = { authorization: `Bearer ${keyA}` }
  const b = { authorization: `Bearer ${keyB}` }
  // Runs until cancelled, at no CPU cost; under PARASCAN_PARTITION_RECORDS, so one job (the rule does not cover partition jobs).
  const endless = { source: { type: 'range', start: 0, end: 1_000_000 }, pipeline: [{ processor: 'sleep', params: { ms: 5 } }], parallel: { max_workers: 1 } }
  const doc = async (id: string, headers: Record<string, string>): Promise<{ status: string, started_at: string | null }> => (await http(one.url, 'GET', `/v1/scans/${id}`, undefined, headers)).json
  const running = async (ids: string[]): Promise<true | undefined> => {
    for (const id of ids) if ((await doc(id, a)).status !== 'running') return undefined
    return true
  }
  const cancel = async (id: string): Promise<void> => {
    await http(one.url, 'POST', `/v1/scans/${id}/cancel`, undefined, a)
    await finished(one.url, id, a, 30_000)
  }
  // Each instance runs one scan of a tenant that runs one there (PARASCAN_CONCURRENCY=1): the second of a's two
  // scans is put back by the instance that took it, and the other instance, which has room, takes it.
  for (let round = 0; round < 10; round++) {
    const first = await submit(one.url, endless, a)
    await waitFor(async () => await running([first]), 30_000, 20)
    const second = await submit(one.url, endless, a)
    await waitFor(async () => await running([second]), 5_000, 20)
      .catch(() => assert.fail(`round ${round}: a scan put back did not start within 5 s on the instance with room`))
    await cancel(first)
    await cancel(second)
  }
  // a fills both instances (nobody else waits, so it may), then queues a third scan; b queues one after it.
  const first = await submit(one.url, endless, a)
  const second = await submit(one.url, endless, a)
  await waitFor(async () => await running([first, second]), 30_000, 20)
  const third = await submit(one.url, endless, a)
  const fromB = await submit(two.url, { source: { type: 'range', start: 0, end: 1000 } }, b)
  const bDoc = await finished(two.url, fromB, b, 60_000)
  assert.equal(bDoc.status, 'succeeded')
  const waiting = await doc(third, a)
  assert.equal(waiting.status, 'queued', 'both instances run a scan of a: the third waits for room')
  await cancel(first)
  await waitFor(async () => await running([third]), 5_000, 20)
    .catch(() => assert.fail('the third scan of a did not start within 5 s once an instance had room'))
  assert.ok(Date.parse((await doc(third, a)).started_at ?? '') >= Date.parse(bDoc.started_at), 'the third scan of a let the later scan of b go first')
  for (const id of [second, third]) await cancel(id)
})

test('SIGTERM while Redis is gone: the instance exits within SHUTDOWN_GRACE and a few seconds; /readyz says why once (Redis)', async () => {
  const redis = await PrivateRedis.start({ aof: false })
  onClose(async () => { await redis.close() })
  const instance = await childInstance({ REDIS_URL: redis.url, SHUTDOWN_GRACE: '2s', PARASCAN_LOCK_DURATION: '5s' })
  await submit(instance.url, { source: { type: 'range', start: 0, end: 100_000_000 }, pipeline: [{ processor: 'synthetic', params: { cost_us: 10 } }] })
  await new Promise((resolve) => setTimeout(resolve, 1000))
  await redis.kill()
  await new Promise((resolve) => setTimeout(resolve, 500))
  const ready = await http(instance.url, 'GET', '/readyz')
  assert.equal(ready.status, 503)
  assert.doesNotMatch(ready.json.detail, /Service unavailable: .*Service unavailable/)
  const began = Date.now()
  instance.child.kill('SIGTERM')
  const exit = await instance.exited
  const tookMs = Date.now() - began
  assert.ok(tookMs < 2000 + 5000, `exited after ${tookMs} ms`)
  assert.equal(exit, '0')
})
