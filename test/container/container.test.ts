import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
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

async function freePort (): Promise<number> {
  const probe = createServer()
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done))
  const port = (probe.address() as { port: number }).port
  await new Promise((done) => probe.close(done))
  return port
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

test('the image builds from the Dockerfile, runs a scan through its port and stops cleanly on SIGTERM', async (t) => {
  if (process.env.PARASCAN_CONTAINER_TEST !== '1') {
    t.skip('builds and runs the container image: npm run test:container')
    return
  }
  const engine = await findEngine()
  if (engine === undefined) {
    t.skip('no container engine (docker or podman) works on this machine; the image was not built')
    return
  }
  const workdir = mkdtempSync(join(tmpdir(), 'parascan-image-'))
  const image = `localhost/parascan-test:${tag}`
  const container = `parascan-test-${tag}`
  const images: string[] = []
  t.after(async () => {
    await exec(engine.name, ['rm', '-f', container]).catch(() => {})
    for (const name of images.reverse()) await exec(engine.name, ['rmi', '-f', name]).catch(() => {})
    rmSync(workdir, { recursive: true, force: true })
  })

  const base = await buildBaseImage(engine, workdir)
  images.push(base)
  const npmCache = (await exec('npm', ['config', 'get', 'cache'])).stdout.trim()
  const cacheMount = engine.name === 'podman' && existsSync(npmCache) ? ['-v', `${npmCache}:/root/.npm`] : []
  await exec(engine.name, [...engine.build, ...cacheMount, '--build-arg', `NODE_IMAGE=${base}`, '-t', image, '-f', join(root, 'Dockerfile'), root],
    { maxBuffer: 64 * 1024 * 1024 })
  images.push(image)

  const { stdout: inspected } = await exec(engine.name, ['image', 'inspect', image])
  interface Healthcheck { Test: string[] }
  const [info] = JSON.parse(inspected) as Array<{ Config: { User: string, ExposedPorts: Record<string, unknown>, Cmd: string[], Healthcheck?: Healthcheck }, Healthcheck?: Healthcheck }>
  assert.equal(info.Config.User, '1000:1000')
  assert.ok('3000/tcp' in info.Config.ExposedPorts)
  assert.deepEqual(info.Config.Cmd, ['node', 'dist/src/main.js'])
  assert.deepEqual((info.Config.Healthcheck ?? info.Healthcheck)?.Test.slice(0, 3), ['CMD', 'node', '-e'])

  const probe = await exec(engine.name, [...engine.run, '--rm', image, 'node', '-e',
    "for (const m of ['typescript', 'eslint', 'tsx', 'fastify', 'bullmq']) { try { require.resolve(m, { paths: [process.cwd()] }); console.log(m) } catch {} }"])
  assert.deepEqual(probe.stdout.trim().split('\n'), ['fastify', 'bullmq'], 'production dependencies only')

  const port = await freePort()
  await exec(engine.name, [...engine.run, '-d', '--name', container, '-e', `PORT=${port}`, '-e', 'HOST=127.0.0.1', '-e', 'PROTO_PARALLEL_MAX_WORKERS=2', image])
  const url = `http://127.0.0.1:${port}`
  await until('GET /healthz', 60_000, async () => (await fetch(url + '/healthz')).ok || undefined)
  if (engine.name === 'podman') await exec('podman', ['healthcheck', 'run', container])

  const submitted = await fetch(url + '/v1/scans', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ source: { type: 'range', start: 0, end: 100_000 }, pipeline: [{ filter: 'record % 2 == 0' }, { map: 'record * 2' }], ordered: true })
  })
  assert.equal(submitted.status, 202)
  const { id } = await submitted.json() as { id: string }
  const status = await until('scan finished', 60_000, async () => {
    const doc = await (await fetch(`${url}/v1/scans/${id}`)).json() as { status: string, result: { count: number } }
    return ['succeeded', 'failed', 'cancelled'].includes(doc.status) ? doc : undefined
  })
  assert.equal(status.status, 'succeeded')
  const items: number[] = []
  let cursor: string | undefined
  for (;;) {
    const page = await (await fetch(`${url}/v1/scans/${id}/results?limit=10000${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)).json() as { items: number[], next_cursor?: string, complete: boolean }
    items.push(...page.items)
    if (page.complete) break
    cursor = page.next_cursor
  }
  assert.equal(items.length, 50_000)
  assert.ok(items.every((value, index) => value === index * 4))

  const slow = await fetch(url + '/v1/scans', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ source: { type: 'range', start: 0, end: 100_000_000 }, pipeline: [{ processor: 'synthetic', params: { cost_us: 100 } }] })
  })
  const { id: slowId } = await slow.json() as { id: string }
  await until('slow scan running', 30_000, async () => ((await (await fetch(`${url}/v1/scans/${slowId}`)).json()) as { status: string }).status === 'running' || undefined)
  const started = Date.now()
  await exec(engine.name, ['stop', '-t', '10', container])
  const stoppedMs = Date.now() - started
  const { stdout: exitCode } = await exec(engine.name, ['inspect', '--format', '{{.State.ExitCode}}', container])
  assert.equal(exitCode.trim(), '0', 'the service exits 0 on SIGTERM')
  assert.ok(stoppedMs < 10_000, `stopped in ${stoppedMs} ms with a scan running, before the engine's SIGKILL`)
  t.diagnostic(`${engine.name}: image ${basename(image)} built, scan ${id} served 50000 results, stopped in ${stoppedMs} ms`)
})
