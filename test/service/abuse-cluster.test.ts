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

test('fairness: a tenant over its share of running scans (PARASCAN_MAX_RUNNING_SCANS_PER_TENANT=1) waits behind another tenant\'s scan that came later (Redis, two instances)', async () => {
  const prefix = uniquePrefix()
  onClose(async () => await dropPrefix(prefix))
  const keyA = 'tenant-a-key-0123456789'
  const keyB = 'tenant-b-key-0123456789'
  const env = { REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_API_KEYS: `a:${keyA},b:${keyB}`, PARASCAN_LOCK_DURATION: '5s' }
  const one = await start(env)
  const two = await start(env)
  const a = { authorization: `Bearer ${keyA}` }
  const b = { authorization: `Bearer ${keyB}` }
  // Under PARASCAN_PARTITION_RECORDS, so that each scan is one job (the rule does not cover partition jobs).
  const scan = (end: number): object => ({ source: { type: 'range', start: 0, end }, pipeline: [{ processor: 'synthetic', params: { cost_us: 200 } }], parallel: { max_workers: 1 } })
  const status = async (id: string, headers: Record<string, string>): Promise<string> => (await http(one.url, 'GET', `/v1/scans/${id}`, undefined, headers)).json.status
  // a fills both instances (nobody else waits, so it may), then queues a third scan; b queues one after it.
  // The shorter of a's first two still runs for seconds, so that both run at once wherever the queue puts them.
  const short = await submit(one.url, scan(60_000), a)
  const long = await submit(one.url, scan(900_000), a)
  await waitFor(async () => (await status(short, a)) === 'running' && (await status(long, a)) === 'running' ? true : undefined, 60_000, 50)
  const third = await submit(one.url, scan(900_000), a)
  const fromB = await submit(two.url, { source: { type: 'range', start: 0, end: 1000 } }, b)
  const doc = await finished(two.url, fromB, b, 90_000)
  assert.equal(doc.status, 'succeeded')
  const thirdDoc = (await http(one.url, 'GET', `/v1/scans/${third}`, undefined, a)).json
  assert.ok(thirdDoc.started_at === null || Date.parse(thirdDoc.started_at) >= Date.parse(doc.started_at), 'the third scan of a let the later scan of b go first')
  await waitFor(async () => (await status(third, a)) === 'running' ? true : undefined, 60_000, 100)
  for (const id of [short, long, third]) await http(one.url, 'POST', `/v1/scans/${id}/cancel`, undefined, a)
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
