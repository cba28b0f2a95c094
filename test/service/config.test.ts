import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { loadServiceConfig } from '../../src/config/service-config.js'
import { parseDuration } from '../../src/config/duration.js'
import { startServer } from '../../src/server.js'
import { MemoryScanStore } from '../../src/store/memory-scan-store.js'
import { decodeResultCursor, encodeResultCursor } from '../../src/store/result-cursor.js'
import { newScanId } from '../../src/store/scan-id.js'
import { build } from '../helpers/service-harness.js'
import { freePort } from '../helpers/free-port.js'

test('defaults of the service configuration', () => {
  const config = loadServiceConfig({})
  assert.equal(config.port, 3000)
  assert.equal(config.host, '0.0.0.0')
  assert.equal(config.redisUrl, undefined)
  assert.equal(config.dataDir, './data')
  assert.equal(config.bodyLimit, 32 * 1024 * 1024)
  assert.equal(config.retentionMs, 24 * 3600 * 1000)
  assert.equal(config.keyPrefix, 'parascan')
  assert.equal(config.concurrency, 1)
  assert.equal(config.shutdownGraceMs, 10_000)
  assert.equal(loadServiceConfig({ REDIS_URL: '' }).redisUrl, undefined)
})

test('durations', () => {
  assert.equal(parseDuration('500ms'), 500)
  assert.equal(parseDuration('30'), 30_000)
  assert.equal(parseDuration('1.5s'), 1500)
  assert.equal(parseDuration('24h'), 86_400_000)
  assert.equal(parseDuration('7d'), 7 * 86_400_000)
  assert.equal(parseDuration('soon'), undefined)
  assert.equal(parseDuration('-1s'), undefined)
  assert.equal(parseDuration(' 30 s '), 30_000)
})

test('a duration is read in linear time: a long run of spaces before a wrong unit fails at once', { timeout: 10_000 }, () => {
  const spaces = ' '.repeat(200_000)
  assert.equal(parseDuration(`1${spaces}x`), undefined)
  assert.equal(parseDuration(`1${spaces}s${spaces}x`), undefined)
  assert.equal(parseDuration(`${spaces}1${spaces}s${spaces}`), 1000)
})

test('a bad value names its variable', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: '70000' }, /PORT/],
    [{ PORT: 'http' }, /PORT/],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL/],
    [{ RETENTION: 'forever' }, /RETENTION/],
    [{ BODY_LIMIT: '1.5' }, /BODY_LIMIT/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ PARASCAN_KEY_PREFIX: 'a b' }, /PARASCAN_KEY_PREFIX/],
    [{ PARASCAN_CONCURRENCY: '0' }, /PARASCAN_CONCURRENCY.*REDIS_URL/],
    [{ SHUTDOWN_GRACE: '1y' }, /SHUTDOWN_GRACE/],
    [{ PARASCAN_PARTITION_LOCK_DURATION: '999ms' }, /PARASCAN_PARTITION_LOCK_DURATION.*from 1s to 1h/],
    [{ PARASCAN_PARTITION_LOCK_DURATION: '2h' }, /PARASCAN_PARTITION_LOCK_DURATION.*from 1s to 1h/],
    [{ PARASCAN_STATUS_WAIT_POLL_INTERVAL: '9ms' }, /PARASCAN_STATUS_WAIT_POLL_INTERVAL.*at least 10ms/],
    [{ PARASCAN_MAX_STATUS_WAITERS: '-1' }, /PARASCAN_MAX_STATUS_WAITERS/],
    [{ PARASCAN_MAX_STATUS_WAIT: 'forever' }, /PARASCAN_MAX_STATUS_WAIT/]
  ]
  for (const [env, pattern] of cases) {
    assert.throws(() => loadServiceConfig(env), (error: Error & { code?: string }) => {
      assert.match(error.message, pattern)
      assert.equal(error.code, 'PARASCAN_INVALID_ENVIRONMENT')
      return true
    }, JSON.stringify(env))
  }
})

test('startServer rejects a bad PROTO_PARALLEL_* value naming it', async () => {
  await assert.rejects(startServer({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', PROTO_PARALLEL_MAX_WORKERS: 'many' }), /PROTO_PARALLEL_MAX_WORKERS/)
  await assert.rejects(startServer({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', PROTO_PARALLEL_MIN_CHUNK: '900', PROTO_PARALLEL_INITIAL_CHUNK: '100' }), /initial_chunk_size/)
})

test('npm start with a bad variable exits 1 with one line naming it', () => {
  const main = fileURLToPath(new URL('../../src/main.js', import.meta.url))
  const run = spawnSync(process.execPath, [main], { env: { ...process.env, PORT: '-3', LOG_LEVEL: 'silent' }, encoding: 'utf8', timeout: 20_000 })
  assert.equal(run.status, 1)
  assert.match(run.stderr, /^parascan: cannot start: Invalid environment variable PORT: /)
  assert.equal(run.stderr.trim().split('\n').length, 1)
})

async function startMain (env: NodeJS.ProcessEnv): Promise<{ status: number | null, stderr: string }> {
  const main = fileURLToPath(new URL('../../src/main.js', import.meta.url))
  const child = spawn(process.execPath, [main], { env: { ...process.env, PORT: '0', LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const status = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  return { status, stderr }
}

test('npm start with Redis unreachable exits 1 with one line naming REDIS_URL and the address', async () => {
  const port = await freePort()
  const refused = await startMain({ REDIS_URL: `redis://:secret@127.0.0.1:${port}/0` })
  assert.equal(refused.status, 1)
  assert.match(refused.stderr, new RegExp(`^parascan: cannot start: .*Redis at 127\\.0\\.0\\.1:${port} \\(REDIS_URL=redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}/0\\): .*ECONNREFUSED`))
  assert.doesNotMatch(refused.stderr, /secret/)
  assert.equal(refused.stderr.trim().split('\n').length, 1)

  const sockets = new Set<import('node:net').Socket>()
  const silent = createServer((socket) => { sockets.add(socket); socket.on('error', () => {}) })
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  const silentPort = (silent.address() as { port: number }).port
  try {
    const mute = await startMain({ REDIS_URL: `redis://127.0.0.1:${silentPort}` })
    assert.equal(mute.status, 1)
    assert.match(mute.stderr, new RegExp(`^parascan: cannot start: .*Redis at 127\\.0\\.0\\.1:${silentPort} \\(REDIS_URL=redis://127\\.0\\.0\\.1:${silentPort}\\): (no answer within|Command timed out)`))
  } finally {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => silent.close(resolve))
  }
})

test('npm start on a port in use exits 1 with one line naming HOST, PORT and the address', async () => {
  const taken = createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  const port = (taken.address() as { port: number }).port
  try {
    const run = await startMain({ HOST: '127.0.0.1', PORT: String(port), REDIS_URL: '' })
    assert.equal(run.status, 1)
    assert.match(run.stderr, new RegExp(`^parascan: cannot start: cannot listen on 127\\.0\\.0\\.1:${port} \\(HOST, PORT\\): .*EADDRINUSE`))
    assert.equal(run.stderr.trim().split('\n').length, 1)
  } finally {
    await new Promise((resolve) => taken.close(resolve))
  }
})

test('readyz is a 503 problem when the queue or store is unreachable', async (t) => {
  const store = new MemoryScanStore()
  store.ping = async () => { throw new Error('store unreachable') }
  const app = await build(t, { store, consume: false })
  const response = await app.inject({ method: 'GET', url: '/readyz' })
  assert.equal(response.statusCode, 503)
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/)
  assert.equal(response.json().code, 'PARASCAN_UNAVAILABLE')
  assert.match(response.json().detail, /store unreachable/)
})

test('result cursors round-trip and reject anything else', () => {
  const position = { attempt: 'a-1', page: 12, offset: 345 }
  assert.deepEqual(decodeResultCursor(encodeResultCursor(position)), position)
  for (const bad of ['', 'abc', Buffer.from('[1,2,3]').toString('base64url'), Buffer.from('["a",-1,0]').toString('base64url')]) {
    assert.throws(() => decodeResultCursor(bad), { code: 'PARASCAN_INVALID_CURSOR' })
  }
})

test('scan ids are UUID v7 and sort by creation', () => {
  const ids = Array.from({ length: 5000 }, () => newScanId())
  assert.deepEqual([...ids].sort(), ids)
  assert.equal(new Set(ids).size, ids.length)
  for (const id of ids.slice(0, 10)) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
})
