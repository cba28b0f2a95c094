import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs'
import { freePort } from '../helpers/free-port.js'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const exec = promisify(execFile)
const root = fileURLToPath(new URL('../../../', import.meta.url))
const tag = `${process.pid}-${Date.now().toString(36)}`

interface Engine {
  name: string
  build: string[]
  run: string[]
}

async function findEngine (): Promise<Engine | undefined> {
  if (await exec('docker', ['info'], { timeout: 20_000 }).then(() => true, () => false)) {
    return { name: 'docker', build: ['build'], run: ['run', '--network', 'host'] }
  }
  if (await exec('podman', ['info'], { timeout: 20_000 }).then(() => true, () => false)) {
    return {
      name: 'podman',
      build: ['build', '--isolation=chroot', '--format', 'docker', '--layers=false'],
      run: ['--runtime', 'runc', 'run', '--network', 'host', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096']
    }
  }
  return undefined
}

/** Copies a binary and the shared libraries ldd lists for it into `rootfs`, at the same paths. */
async function copyWithLibraries (rootfs: string, binary: string, target: string): Promise<void> {
  mkdirSync(dirname(join(rootfs, target)), { recursive: true })
  cpSync(realpathSync(binary), join(rootfs, target))
  const { stdout } = await exec('ldd', [binary])
  for (const [, library] of stdout.matchAll(/(\/\S+) \(0x/g)) {
    const path = join(rootfs, library)
    if (existsSync(path)) continue
    mkdirSync(dirname(path), { recursive: true })
    cpSync(realpathSync(library), path)
  }
}

/**
 * A base image made of this machine's own node, npm and a few shell tools, standing in for the
 * official Node image where registry images cannot be pulled. It has what the Dockerfile needs:
 * node, npm, /bin/sh, env, mkdir and chown.
 */
async function buildBaseImage (engine: Engine, workdir: string): Promise<string> {
  const context = join(workdir, 'base')
  const rootfs = join(context, 'rootfs')
  mkdirSync(join(rootfs, 'usr/local/bin'), { recursive: true })
  await copyWithLibraries(rootfs, process.execPath, '/usr/local/bin/node')
  const which = async (name: string): Promise<string> => (await exec('sh', ['-c', `command -v ${name}`])).stdout.trim()
  for (const tool of ['sh', 'env', 'mkdir', 'chown', 'rm']) await copyWithLibraries(rootfs, await which(tool), `/usr/bin/${tool}`)
  symlinkSync('usr/bin', join(rootfs, 'bin'))
  const npm = resolve(dirname(process.execPath), '../lib/node_modules/npm')
  cpSync(npm, join(rootfs, 'usr/local/lib/node_modules/npm'), { recursive: true })
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(rootfs, 'usr/local/bin/npm'))
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(rootfs, 'usr/local/bin/npx'))
  mkdirSync(join(rootfs, 'etc'), { recursive: true })
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n')
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnode:x:1000:\n')
  mkdirSync(join(rootfs, 'root'))
  mkdirSync(join(rootfs, 'tmp'))
  chmodSync(join(rootfs, 'tmp'), 0o1777)
  const env = ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/root']
  const caBundle = '/etc/ssl/certs/ca-certificates.crt'
  if (existsSync(caBundle)) {
    mkdirSync(join(rootfs, dirname(caBundle)), { recursive: true })
    cpSync(caBundle, join(rootfs, caBundle))
    env.push(`NODE_EXTRA_CA_CERTS=${caBundle}`)
  }
  writeFileSync(join(context, 'Containerfile'), `FROM scratch\nCOPY rootfs/ /\nENV ${env.join(' ')}\nCMD ["node"]\n`)
  const image = `localhost/parascan-test-node:${tag}`
  await exec(engine.name, [...engine.build, '-t', image, context], { maxBuffer: 64 * 1024 * 1024 })
  return image
}


async function until<T> (what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise((done) => setTimeout(done, 200))
  }
}

async function json<T> (response: Promise<Response>): Promise<T> {
  return await (await response).json() as T
}

async function submitScan (url: string, body: unknown): Promise<string> {
  const response = await fetch(url + '/v1/scans', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  assert.equal(response.status, 202)
  return ((await response.json()) as { id: string }).id
}

async function finishedStatus (url: string, id: string): Promise<{ status: string, result: { count: number } }> {
  return await until(`scan ${id} finished`, 60_000, async () => {
    const doc = await json<{ status: string, result: { count: number } }>(fetch(`${url}/v1/scans/${id}`))
    return ['succeeded', 'failed', 'cancelled'].includes(doc.status) ? doc : undefined
  })
}

async function allResults (url: string, id: string): Promise<unknown[]> {
  const items: unknown[] = []
  let cursor: string | undefined
  for (;;) {
    const page = await json<{ items: unknown[], next_cursor?: string, complete: boolean }>(
      fetch(`${url}/v1/scans/${id}/results?limit=10000${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`))
    items.push(...page.items)
    if (page.complete) return items
    cursor = page.next_cursor
  }
}

const EXAMPLE = { source: { type: 'range', start: 0, end: 100_000 }, pipeline: [{ filter: 'record % 2 == 0' }, { map: 'record * 2' }], ordered: true }
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

const enabled = process.env.PARASCAN_CONTAINER_TEST === '1'
const engine = enabled ? await findEngine() : undefined
const skip = !enabled
  ? 'builds and runs the container image: npm run test:container'
  : engine === undefined ? 'no container engine (docker or podman) works on this machine; the image was not built' : false

describe('container image', { skip }, () => {
  let workdir: string | undefined
  const image = `localhost/parascan-test:${tag}`
  const images: string[] = []
  const containers: string[] = []

  async function start (name: string, env: Record<string, string>): Promise<string> {
    const port = await freePort()
    const container = `parascan-test-${tag}-${name}`
    const flags = Object.entries({ PARASCAN_PORT: String(port), PARASCAN_HOST: '127.0.0.1', PROTO_PARALLEL_MAX_WORKERS: '2', ...env }).flatMap(([key, value]) => ['-e', `${key}=${value}`])
    await exec(engine!.name, [...engine!.run, '-d', '--name', container, ...flags, image])
    containers.push(container)
    const url = `http://127.0.0.1:${port}`
    await until(`${name}: GET /healthz`, 60_000, async () => (await fetch(url + '/healthz')).ok || undefined)
    return url
  }

  async function stop (name: string): Promise<{ ms: number, exitCode: string }> {
    const container = `parascan-test-${tag}-${name}`
    const started = Date.now()
    await exec(engine!.name, ['stop', '-t', '10', container])
    const ms = Date.now() - started
    const { stdout } = await exec(engine!.name, ['inspect', '--format', '{{.State.ExitCode}}', container])
    return { ms, exitCode: stdout.trim() }
  }

  before(async () => {
    workdir = mkdtempSync(join(tmpdir(), 'parascan-image-'))
    const base = await buildBaseImage(engine!, workdir)
    images.push(base)
    const npmCache = (await exec('npm', ['config', 'get', 'cache'])).stdout.trim()
    const cacheMount = engine!.name === 'podman' && existsSync(npmCache) ? ['-v', `${npmCache}:/root/.npm`] : []
    await exec(engine!.name, [...engine!.build, ...cacheMount, '--build-arg', `NODE_IMAGE=${base}`, '-t', image, '-f', join(root, 'Dockerfile'), root],
      { maxBuffer: 64 * 1024 * 1024 })
    images.push(image)
  })

  after(async () => {
    for (const container of containers) await exec(engine!.name, ['rm', '-f', container]).catch(() => {})
    for (const name of images.reverse()) await exec(engine!.name, ['rmi', '-f', name]).catch(() => {})
    if (workdir !== undefined) rmSync(workdir, { recursive: true, force: true })
  })

  test('the image runs node as uid 1000 with a node health check and production dependencies only', async () => {
    const { stdout: inspected } = await exec(engine!.name, ['image', 'inspect', image])
    interface Healthcheck { Test: string[] }
    const [info] = JSON.parse(inspected) as Array<{ Config: { User: string, ExposedPorts: Record<string, unknown>, Cmd: string[], Healthcheck?: Healthcheck }, Healthcheck?: Healthcheck }>
    assert.equal(info.Config.User, '1000:1000')
    assert.ok('3000/tcp' in info.Config.ExposedPorts)
    assert.deepEqual(info.Config.Cmd, ['node', 'dist/src/main.js'])
    assert.deepEqual((info.Config.Healthcheck ?? info.Healthcheck)?.Test.slice(0, 3), ['CMD', 'node', '-e'])

    const probe = await exec(engine!.name, [...engine!.run, '--rm', image, 'node', '-e',
      "for (const m of ['typescript', 'eslint', 'tsx', 'fastify', 'bullmq']) { try { require.resolve(m, { paths: [process.cwd()] }); console.log(m) } catch {} }"])
    assert.deepEqual(probe.stdout.trim().split('\n'), ['fastify', 'bullmq'])
  })

  test('embedded: healthy, serves the range/filter/map scan through its port, stops on SIGTERM mid-scan within 10 s', async (t) => {
    const url = await start('embedded', {})
    if (engine!.name === 'podman') await exec('podman', ['healthcheck', 'run', `parascan-test-${tag}-embedded`])
    const id = await submitScan(url, EXAMPLE)
    assert.equal((await finishedStatus(url, id)).status, 'succeeded')
    const items = await allResults(url, id)
    assert.equal(items.length, 50_000)
    assert.ok(items.every((value, index) => value === index * 4))

    const processors = await json<{ items: Array<{ name: string, builtin: boolean }> }>(fetch(`${url}/v1/processors`))
    assert.deepEqual(processors.items.map((p) => [p.name, p.builtin]), [['synthetic', true], ['redact_fields', false]], 'the image ships the example plug-in in /processors')
    const redacted = await submitScan(url, { source: { type: 'inline', records: [{ user: 'ann', email: 'a@x' }] }, pipeline: [{ processor: 'redact_fields', params: { fields: ['email'] } }] })
    assert.equal((await finishedStatus(url, redacted)).status, 'succeeded')
    assert.deepEqual(await allResults(url, redacted), [{ user: 'ann', email: '***' }])

    const slowId = await submitScan(url, { source: { type: 'range', start: 0, end: 100_000_000 }, pipeline: [{ processor: 'synthetic', params: { cost_us: 100 } }] })
    await until('slow scan running', 30_000, async () => (await json<{ status: string }>(fetch(`${url}/v1/scans/${slowId}`))).status === 'running' || undefined)
    const stopped = await stop('embedded')
    assert.equal(stopped.exitCode, '0', 'the service exits 0 on SIGTERM')
    assert.ok(stopped.ms < 10_000, `stopped in ${stopped.ms} ms with a scan running, before the engine's SIGKILL`)
    t.diagnostic(`${engine!.name}: scan ${id} served 50000 results; stopped in ${stopped.ms} ms with a scan running`)
  })

  test('two replicas on one Redis share scans, and serve the queue dashboard', async (t) => {
    const redisUp = await exec('redis-cli', ['-u', REDIS_URL, 'ping']).then(({ stdout }) => stdout.includes('PONG'), () => false)
    if (!redisUp) {
      t.skip(`no Redis at ${REDIS_URL}`)
      return
    }
    const prefix = `parascan-image-test-${tag}`
    const env = { REDIS_URL, PARASCAN_KEY_PREFIX: prefix }
    try {
      const [first, second] = await Promise.all([start('replica-1', env), start('replica-2', env)])
      const id = await submitScan(first, EXAMPLE)
      assert.equal((await finishedStatus(second, id)).status, 'succeeded')
      const items = await allResults(second, id)
      assert.equal(items.length, 50_000)
      assert.ok(items.every((value, index) => value === index * 4))
      const dashboard = await fetch(second + '/admin/queues')
      assert.equal(dashboard.status, 200)
      assert.match(dashboard.headers.get('content-type') ?? '', /^text\/html/)
      for (const name of ['replica-1', 'replica-2']) assert.equal((await stop(name)).exitCode, '0')
    } finally {
      const { stdout } = await exec('redis-cli', ['-u', REDIS_URL, '--scan', '--pattern', `${prefix}:*`])
      const keys = stdout.split('\n').filter((key) => key !== '')
      if (keys.length > 0) await exec('redis-cli', ['-u', REDIS_URL, 'del', ...keys])
    }
  })
})
