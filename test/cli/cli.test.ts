import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { freePort } from '../helpers/free-port.js'
import { mkdtempSync, readFileSync, existsSync, writeFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startServer, type RunningServer } from '../../src/server.js'

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'parascan-cli-'))
let server: RunningServer

interface Run { code: number | null, stdout: string, stderr: string }

function parascan (args: string[], options: { env?: Record<string, string>, input?: string, onStderr?: (text: string) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, PARASCAN_URL: server.url, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => { stdout += chunk })
    child.stderr.on('data', (chunk) => { stderr += chunk; options.onStderr?.(stderr) })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.input ?? '')
  })
}

function scanFile (name: string, body: unknown): string {
  const path = join(dir, name)
  writeFileSync(path, JSON.stringify(body))
  return path
}

function evenDoubled (start: number, end: number): number[] {
  const out: number[] = []
  for (let i = start; i < end; i++) if (i % 2 === 0) out.push(i * 2)
  return out
}


const example = {
  source: { type: 'range', start: 0, end: 30_000 },
  pipeline: [{ filter: 'record % 2 == 0' }, { map: 'record * 2' }],
  parallel: { max_workers: 2 }
}

before(async () => {
  server = await startServer({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', DATA_DIR: dir, PROTO_PARALLEL_MAX_WORKERS: '2' })
})

after(async () => {
  await server.close()
})

test('--help describes every command and exits 0', async () => {
  const top = await parascan(['--help'])
  assert.equal(top.code, 0)
  for (const command of ['serve', 'submit', 'status', 'results', 'cancel', 'delete', 'list']) {
    assert.match(top.stdout, new RegExp(`\\n  ${command}\\b`))
    const help = await parascan([command, '--help'])
    assert.equal(help.code, 0, help.stderr)
    assert.match(help.stdout, new RegExp(`^Usage: parascan ${command}`))
  }
  const submit = (await parascan(['submit', '--help'])).stdout
  for (const option of ['--url <url>', 'PARASCAN_URL', '--wait', '--out <file>', '--idempotency-key <key>', '--no-progress']) assert.ok(submit.includes(option), option)
})

test('submit --wait --out writes every result as NDJSON, with plain progress lines off a terminal', async () => {
  const out = join(dir, 'example.ndjson')
  const run = await parascan(['submit', scanFile('example.json', { ...example, ordered: true }), '--wait', '--out', out, '--interval', '50', '--page-size', '4000'])
  assert.equal(run.code, 0, run.stderr)
  assert.equal(run.stdout, '')
  const lines = readFileSync(out, 'utf8').split('\n')
  assert.equal(lines.pop(), '')
  assert.deepEqual(lines.map((line) => JSON.parse(line)), evenDoubled(0, 30_000))
  assert.ok(!existsSync(out + '.partial'))
  assert.match(run.stderr, /^scan \S+ (queued|running|succeeded)/m)
  assert.match(run.stderr, /succeeded: 30000 records, 15000 results written to /)
  assert.ok(!run.stderr.includes('\u001b['), 'no terminal escapes when stderr is not a TTY')
})

test('on a terminal, --wait shows a live progress bar with records, rate and ETA', async (t) => {
  const script = await new Promise<boolean>((resolve) => spawn('script', ['--version'], { stdio: 'ignore' }).on('error', () => resolve(false)).on('close', (code) => resolve(code === 0)))
  if (!script) {
    t.skip('script(1) is not installed: no pseudo-terminal to test the bar on')
    return
  }
  const out = join(dir, 'tty.ndjson')
  const command = [process.execPath, CLI, 'submit', scanFile('tty.json', example), '--wait', '--out', out, '--interval', '50'].map((arg) => `'${arg}'`).join(' ')
  const run = await new Promise<Run>((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, PARASCAN_URL: server.url }, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    child.stdout.on('data', (chunk) => { stdout += chunk })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr: '' }))
    child.stdin.end()
  })
  assert.equal(run.code, 0, run.stdout)
  assert.match(run.stdout, /succeeded +\[#+\] 100% \| 30000\/30000 records \| [\d.]+[kM]? rec\/s \| ETA \S+/)
  assert.ok(run.stdout.includes('\u001b['), 'the bar redraws in place')
  assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 15000)
})

test('submit without --wait prints the id; status, results and list use it', async () => {
  const submitted = await parascan(['submit', '-'], { input: JSON.stringify(example) })
  assert.equal(submitted.code, 0, submitted.stderr)
  const id = submitted.stdout.trim()
  assert.match(id, /^\S+$/)

  const results = await parascan(['results', id, '--interval', '50', '--page-size', '1000'])
  assert.equal(results.code, 0, results.stderr)
  const values = results.stdout.trim().split('\n').map((line) => JSON.parse(line) as number)
  assert.deepEqual(values.sort((a, b) => a - b), evenDoubled(0, 30_000))

  const status = await parascan(['status', id])
  assert.equal(status.code, 0, status.stderr)
  assert.match(status.stdout, new RegExp(`id:\\s+${id}`))
  assert.match(status.stdout, /status:\s+succeeded/)
  assert.match(status.stdout, /30000\/30000 records \(100\.0%\), 15000 matched/)
  const json = JSON.parse((await parascan(['status', id, '--json'])).stdout)
  assert.equal(json.result.count, 15000)

  const list = await parascan(['list', '--status', 'succeeded', '--limit', '50'])
  assert.equal(list.code, 0, list.stderr)
  assert.match(list.stdout, /^ID\s+STATUS/)
  assert.match(list.stdout, new RegExp(`^${id}\\s+succeeded\\s`, 'm'))
  const listed = (await parascan(['list', '--json', '--status', 'succeeded'])).stdout.trim().split('\n').map((line) => JSON.parse(line))
  assert.ok(listed.every((item: { status: string }) => item.status === 'succeeded'))

  const deleted = await parascan(['delete', id])
  assert.equal(deleted.code, 0, deleted.stderr)
  assert.equal(deleted.stdout, `scan ${id} deleted\n`)
  const gone = await parascan(['status', id])
  assert.equal(gone.code, 1)
  assert.match(gone.stderr, /^parascan: PARASCAN_SCAN_NOT_FOUND: /)
})

test('a failing scan exits with 3 and names the record offset; its results are refused in one line', async () => {
  const failing = { source: { type: 'inline', records: ['ab', 'cd', 5, 'ef'] }, pipeline: [{ map: 'size(record)' }], ordered: true }
  const out = join(dir, 'failed.ndjson')
  const run = await parascan(['submit', scanFile('failing.json', failing), '--wait', '--out', out, '--interval', '20'])
  assert.equal(run.code, 3, run.stderr)
  assert.match(run.stderr, /^parascan: Scan \S+ failed: PARASCAN_\w+: .*offset 2\b/m)
  assert.ok(!existsSync(out) && !existsSync(out + '.partial'), 'no results file for a failed scan')
  const id = /Scan (\S+) failed/.exec(run.stderr)![1]
  const results = await parascan(['results', id])
  assert.equal(results.code, 1)
  assert.match(results.stderr, /^parascan: PARASCAN_RESULTS_UNAVAILABLE: .+\n$/)
})

test('cancel stops a running scan; the waiting client exits with 4', async () => {
  const slow = {
    source: { type: 'range', start: 0, end: 10_000_000 },
    pipeline: [{ processor: 'synthetic', params: { cost_us: 200 } }],
    parallel: { max_workers: 1 }
  }
  let sawRunning: (id: string) => void
  const running = new Promise<string>((resolve) => { sawRunning = resolve })
  const waiting = parascan(['submit', scanFile('slow.json', slow), '--wait', '--interval', '50'], {
    onStderr: (text) => {
      const match = /^scan (\S+) running/m.exec(text)
      if (match) sawRunning(match[1])
    }
  })
  const id = await running
  const cancel = await parascan(['cancel', id])
  assert.equal(cancel.code, 0, cancel.stderr)
  assert.match(cancel.stdout, new RegExp(`^scan ${id} (cancelled|cancel requested)`))
  const run = await waiting
  assert.equal(run.code, 4, run.stderr)
  assert.match(run.stderr, new RegExp(`parascan: Scan ${id} was cancelled`))
  const again = await parascan(['cancel', id])
  assert.equal(again.code, 1)
  assert.match(again.stderr, /^parascan: PARASCAN_SCAN_FINISHED: .+\n$/)
})

test('SIGINT stops waiting with exit 130 and leaves the scan running', async () => {
  const slow = { source: { type: 'range', start: 0, end: 10_000_000 }, pipeline: [{ processor: 'synthetic', params: { cost_us: 200 } }], parallel: { max_workers: 1 } }
  let child: ReturnType<typeof spawn> | undefined
  const id = await new Promise<string>((resolve, reject) => {
    child = spawn(process.execPath, [CLI, 'submit', scanFile('interrupted.json', slow), '--wait', '--interval', '50'], { env: { ...process.env, PARASCAN_URL: server.url } })
    let stderr = ''
    child.stderr!.on('data', (chunk) => {
      stderr += chunk
      const match = /^scan (\S+) running/m.exec(stderr)
      if (match) resolve(match[1])
    })
    child.on('error', reject)
  })
  let stderr = ''
  child!.stderr!.on('data', (chunk) => { stderr += chunk })
  const exited = new Promise<number | null>((resolve) => child!.on('close', (code) => resolve(code)))
  child!.kill('SIGINT')
  assert.equal(await exited, 130)
  assert.match(stderr, new RegExp(`stopped waiting; scan ${id} goes on \\(parascan cancel ${id} stops it\\)`))
  const status = await (await fetch(`${server.url}/v1/scans/${id}`)).json() as { status: string }
  assert.equal(status.status, 'running')
  assert.equal((await parascan(['cancel', id])).code, 0)
})

test('API, input and connection errors are one line and exit 1', async () => {
  const bad = await parascan(['submit', scanFile('bad.json', { source: { type: 'range', start: 0, end: 10 }, pipeline: [{ filter: 'recrd > 1' }] })])
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /^parascan: PARASCAN_INVALID_SCAN: .*pipeline\[0\]\.filter.*\n$/)

  const unknown = await parascan(['status', 'no-such-scan'])
  assert.equal(unknown.code, 1)
  assert.match(unknown.stderr, /^parascan: PARASCAN_SCAN_NOT_FOUND: .+\n$/)

  writeFileSync(join(dir, 'broken.json'), '{ "source": ')
  const broken = await parascan(['submit', join(dir, 'broken.json')])
  assert.equal(broken.code, 1)
  assert.match(broken.stderr, /^parascan: Cannot use scan file .*broken\.json: not valid JSON/)

  const missing = await parascan(['submit', join(dir, 'absent.json')])
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /Cannot use scan file .*absent\.json: ENOENT/)

  const scans = async (): Promise<number> => (await parascan(['list', '--json', '--limit', '1000'])).stdout.split('\n').length
  const before = await scans()
  const unwritable = await parascan(['submit', scanFile('unwritable.json', example), '--out', join(dir, 'no-such-dir', 'out.ndjson')])
  assert.equal(unwritable.code, 1)
  assert.match(unwritable.stderr, /^parascan: Cannot write .*no-such-dir.*ENOENT/)
  assert.equal(await scans(), before, 'nothing is submitted when the output cannot be written')

  const port = await freePort()
  const refused = await parascan(['list', '--url', `http://127.0.0.1:${port}`])
  assert.equal(refused.code, 1)
  assert.equal(refused.stderr, `parascan: Cannot connect to http://127.0.0.1:${port}: connection refused (is the service running? set --url or PARASCAN_URL)\n`)

  const usage = await parascan(['list', '--url', 'ftp://example'])
  assert.equal(usage.code, 1)
  assert.match(usage.stderr, /not an http:\/\/ or https:\/\/ URL/)
  assert.deepEqual(readdirSync(dir).filter((name) => name.endsWith('.partial')), [])
})

test('serve starts the service from the environment and stops on SIGTERM', async () => {
  const port = await freePort()
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent', DATA_DIR: dir, PROTO_PARALLEL_MAX_WORKERS: '2', REDIS_URL: '' },
    stdio: 'ignore'
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  try {
    let healthy = false
    for (let i = 0; i < 100 && !healthy; i++) {
      healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)
      if (!healthy) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    assert.ok(healthy, 'parascan serve answers /healthz')
    const run = await parascan(['submit', scanFile('serve.json', example), '--wait', '--url', `http://127.0.0.1:${port}`, '--interval', '50'])
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stdout.trim().split('\n').length, 15000)
  } finally {
    child.kill('SIGTERM')
  }
  assert.equal(await exited, 0)
})
