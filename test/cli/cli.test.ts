import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { freePort } from '../helpers/free-port.js'
import { waitFor } from '../helpers/service-harness.js'
import { mkdtempSync, readFileSync, existsSync, writeFileSync, readdirSync, rmSync } from 'node:fs'
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
  const run = await parascan(['submit', scanFile('example.json', { ...example, ordered: true }), '--wait', '--out', out, '--interval', '50'])
  assert.equal(run.code, 0, run.stderr)
  assert.equal(run.stdout, '')
  const lines = readFileSync(out, 'utf8').split('\n')
  assert.equal(lines.pop(), '')
  assert.deepEqual(lines.map((line) => JSON.parse(line)), evenDoubled(0, 30_000))
  assert.ok(!existsSync(out + '.partial'))
  assert.match(run.stderr, /^scan \S+ (queued|running|succeeded)/m)
  assert.match(run.stderr, /succeeded: 30000 records, 0 skipped, 15000 results written to /)
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

  const results = await parascan(['results', id, '--interval', '50'])
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
  const listed = JSON.parse((await parascan(['list', '--json', '--status', 'succeeded'])).stdout) as { items: Array<{ status: string }> }
  assert.ok(listed.items.length > 0 && listed.items.every((item) => item.status === 'succeeded'))

  const deleted = await parascan(['delete', id])
  assert.equal(deleted.code, 0, deleted.stderr)
  assert.equal(deleted.stdout, `scan ${id} deleted\n`)
  const gone = await parascan(['status', id])
  assert.equal(gone.code, 1)
  assert.match(gone.stderr, /^parascan: PARASCAN_SCAN_NOT_FOUND: /)
})

test('a failing scan exits with 3 and names the record offset; `results` writes its partial results and exits with 3 too', async () => {
  const failing = { source: { type: 'inline', records: ['ab', 'cd', 5, 'ef'] }, pipeline: [{ map: 'size(record)' }], ordered: true }
  const out = join(dir, 'failed.ndjson')
  const run = await parascan(['submit', scanFile('failing.json', failing), '--wait', '--out', out, '--interval', '20'])
  assert.equal(run.code, 3, run.stderr)
  assert.match(run.stderr, /^parascan: Scan \S+ failed: PARASCAN_\w+: .*offset 2\b/m)
  assert.ok(!existsSync(out) && !existsSync(out + '.partial'), 'no results file for a failed scan')
  const id = /Scan (\S+) failed/.exec(run.stderr)![1]
  const results = await parascan(['results', id])
  assert.equal(results.code, 3, results.stderr)
  const partial = results.stdout === '' ? [] : results.stdout.trim().split('\n').map((line) => JSON.parse(line) as number)
  assert.deepEqual(partial, [2, 2].slice(0, partial.length))
  assert.match(results.stderr, new RegExp(`^scan ${id} failed: ${partial.length} partial results written to standard output\n`))
  assert.match(results.stderr, /^parascan: Scan \S+ failed: PARASCAN_\w+: .*offset 2\b/m)
  const saved = await parascan(['results', id, '--out', out])
  assert.equal(saved.code, 3)
  assert.ok(!existsSync(out), 'the partial results are not under the complete name')
  assert.equal(readFileSync(out + '.partial', 'utf8'), results.stdout)
  rmSync(out + '.partial')
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
  const results = await parascan(['results', id])
  assert.equal(results.code, 4, results.stderr)
  const count = JSON.parse((await parascan(['status', id, '--json'])).stdout).result.count as number
  assert.equal(results.stdout === '' ? 0 : results.stdout.trim().split('\n').length, count)
  assert.match(results.stderr, new RegExp(`^scan ${id} cancelled: ${count} partial results written to standard output$`, 'm'))
  assert.match(results.stderr, new RegExp(`parascan: Scan ${id} was cancelled`))
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

test('API and input errors are one line and exit 1; an unreachable service exits 5; a usage error 2', async () => {
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

  const scans = async (): Promise<number> => JSON.parse((await parascan(['list', '--json', '--limit', '1000'])).stdout).items.length
  const before = await scans()
  const unwritable = await parascan(['submit', scanFile('unwritable.json', example), '--out', join(dir, 'no-such-dir', 'out.ndjson')])
  assert.equal(unwritable.code, 1)
  assert.match(unwritable.stderr, /^parascan: Cannot write .*no-such-dir.*ENOENT/)
  assert.equal(await scans(), before, 'nothing is submitted when the output cannot be written')

  const port = await freePort()
  const refused = await parascan(['list', '--url', `http://127.0.0.1:${port}`])
  assert.equal(refused.code, 5)
  assert.equal(refused.stderr, `parascan: Cannot connect to http://127.0.0.1:${port}: connection refused (is the service running? set --url or PARASCAN_URL)\n`)

  const usage = await parascan(['list', '--url', 'ftp://example'])
  assert.equal(usage.code, 2)
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
    await waitFor(async () => await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok || undefined, () => undefined), 60_000, 50)
    const run = await parascan(['submit', scanFile('serve.json', example), '--wait', '--url', `http://127.0.0.1:${port}`, '--interval', '50'])
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stdout.trim().split('\n').length, 15000)
  } finally {
    child.kill('SIGTERM')
  }
  assert.equal(await exited, 0)
})

test('usage errors exit 2 with the reason on standard error and nothing on standard output', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['bogus'], /unknown command 'bogus'/],
    [['list', '--bogus'], /unknown option '--bogus'/],
    [['status'], /missing required argument 'id'/],
    [['list', '--limit', '0'], /--limit.*not a positive integer/],
    [['list', '--status', 'done'], /Allowed choices are queued, running/],
    [['submit', 'x.json', '--interval', 'soon'], /not a positive integer/],
    [['submit', 'x.json', '--wait', '--json'], /--wait --json needs --out/]
  ]
  for (const [args, pattern] of cases) {
    const run = await parascan(args)
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`)
    assert.match(run.stderr, pattern, args.join(' '))
    assert.equal(run.stdout, '', args.join(' '))
  }
  const help = await parascan(['--help'])
  assert.equal(help.code, 0)
  assert.match(help.stdout, /Exit codes: 0 done; 1 .*; 2 a usage error;\s+3 the scan failed; 4 the scan was cancelled; 5 the service cannot be reached;/)
  const version = await parascan(['--version'])
  assert.equal(version.code, 0)
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/)
})

test('--json prints exactly one JSON document on standard output for every command', async () => {
  const one = (run: Run): Record<string, unknown> => {
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stdout.trimEnd().split('\n').length, 1, run.stdout)
    return JSON.parse(run.stdout) as Record<string, unknown>
  }
  const accepted = one(await parascan(['submit', scanFile('json.json', { source: { type: 'range', start: 0, end: 10 } }), '--json']))
  assert.match(String(accepted.id), /^\S+$/)
  assert.equal(accepted.status, 'queued')
  assert.equal((accepted.links as { self: string }).self, `/v1/scans/${accepted.id}`)

  const out = join(dir, 'json.ndjson')
  const waited = one(await parascan(['submit', join(dir, 'json.json'), '--wait', '--out', out, '--json', '--interval', '20']))
  assert.equal(waited.status, 'succeeded')
  assert.equal((waited.result as { count: number }).count, 10)
  assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 10)

  const status = one(await parascan(['status', String(accepted.id), '--json']))
  assert.equal(status.id, accepted.id)
  const page = one(await parascan(['list', '--json', '--limit', '2']))
  assert.ok(Array.isArray(page.items))
  assert.equal(typeof page.next_cursor, 'string')
  const deleted = one(await parascan(['delete', String(waited.id), '--json']))
  assert.deepEqual(deleted, { id: waited.id, deleted: true })

  const failed = await parascan(['submit', scanFile('json-bad.json', { source: { type: 'inline', records: ['a', 1] }, pipeline: [{ map: 'size(record)' }] }), '--wait', '--out', join(dir, 'json-bad.ndjson'), '--json', '--interval', '20'])
  assert.equal(failed.code, 3)
  assert.equal(JSON.parse(failed.stdout).status, 'failed')
  assert.match(failed.stderr, /^parascan: Scan \S+ failed: /m)
})

test('list pages with --cursor, never repeating or skipping a scan', async () => {
  for (let i = 0; i < 5; i++) assert.equal((await parascan(['submit', scanFile(`page-${i}.json`, { source: { type: 'range', start: 0, end: 1 } })])).code, 0)
  const all = JSON.parse((await parascan(['list', '--json', '--limit', '1000'])).stdout) as { items: Array<{ id: string }> }
  const seen: string[] = []
  let cursor: string | undefined
  do {
    const run = await parascan(['list', '--json', '--limit', '2', ...(cursor === undefined ? [] : ['--cursor', cursor])])
    assert.equal(run.code, 0, run.stderr)
    const page = JSON.parse(run.stdout) as { items: Array<{ id: string }>, next_cursor?: string }
    assert.ok(page.items.length <= 2)
    seen.push(...page.items.map((item) => item.id))
    cursor = page.next_cursor
  } while (cursor !== undefined)
  assert.deepEqual(seen, all.items.map((item) => item.id))
  const table = await parascan(['list', '--limit', '2'])
  assert.match(table.stdout, /^ID\s+STATUS\s+CREATED\s+PROCESSED\s+TOTAL\s+SKIPPED\s+RESULTS\n/)
  const next = /^more: parascan list --cursor (\S+)$/m.exec(table.stderr)
  assert.ok(next, table.stderr)
  const second = await parascan(['list', '--limit', '2', '--cursor', next[1]])
  assert.equal(second.stdout.split('\n')[1].split(/\s+/)[0], all.items[2].id)
  const bad = await parascan(['list', '--cursor', 'not-a-cursor'])
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /^parascan: PARASCAN_\w+: /)
})

test('the summary counts skipped records; plain progress lines show them', async () => {
  const skipping = { source: { type: 'inline', records: ['ab', 1, 'cd', 2, 'ef'] }, pipeline: [{ map: 'size(record)' }], on_error: 'skip' }
  const run = await parascan(['submit', scanFile('skip.json', skipping), '--wait', '--interval', '20'])
  assert.equal(run.code, 0, run.stderr)
  assert.match(run.stderr, /succeeded: 5 records, 2 skipped, 3 results\n$/)
  assert.match(run.stderr, /succeeded 5\/5 records \(100\.0%\) 2 skipped /)
  assert.deepEqual(run.stdout.trim().split('\n').map(Number).sort(), [2, 2, 2])
})

test('with API keys, --api-key or PARASCAN_API_KEY authenticates; a 401 names both', async () => {
  const keyed = await startServer({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', DATA_DIR: dir, PROTO_PARALLEL_MAX_WORKERS: '1', PARASCAN_API_KEYS: 'team:k3y-for-cli-tests' })
  try {
    const env = { PARASCAN_URL: keyed.url, PARASCAN_API_KEY: '' }
    const anonymous = await parascan(['list'], { env })
    assert.equal(anonymous.code, 1)
    assert.match(anonymous.stderr, /^parascan: PARASCAN_UNAUTHORIZED: .*give your key with --api-key or PARASCAN_API_KEY\n$/)
    const wrong = await parascan(['list', '--api-key', 'nope'], { env })
    assert.equal(wrong.code, 1)
    assert.match(wrong.stderr, /the key given by --api-key or PARASCAN_API_KEY was refused\n$/)
    const flag = await parascan(['submit', scanFile('keyed.json', { source: { type: 'range', start: 0, end: 3 } }), '--wait', '--api-key', 'k3y-for-cli-tests', '--interval', '20'], { env })
    assert.equal(flag.code, 0, flag.stderr)
    assert.equal(flag.stdout, '0\n1\n2\n')
    const fromEnv = await parascan(['list', '--json'], { env: { ...env, PARASCAN_API_KEY: 'k3y-for-cli-tests' } })
    assert.equal(fromEnv.code, 0, fromEnv.stderr)
    assert.equal(JSON.parse(fromEnv.stdout).items.length, 1)
  } finally {
    await keyed.close()
  }
})

test('the files of the README session are in examples/ as shown, and run as the README says', async () => {
  const root = new URL('../../../', import.meta.url)
  const readme = readFileSync(new URL('README.md', root), 'utf8')
  for (const name of ['scan.json', 'bad.json', 'slow.json']) {
    const file = readFileSync(new URL(`examples/${name}`, root), 'utf8')
    const shown = new RegExp(`^\\$ cat examples/${name.replace('.', '\\.')}\\n([\\s\\S]*?)^\\$ `, 'm').exec(readme)
    if (name !== 'slow.json') {
      assert.ok(shown, `README shows examples/${name}`)
      assert.deepEqual(JSON.parse(shown[1]), JSON.parse(file), `README's examples/${name}`)
    }
    assert.ok(readme.includes(`parascan submit examples/${name}`), `README runs examples/${name}`)
  }
  const cwd = fileURLToPath(root)
  const inRoot = (args: string[]): Promise<Run> => parascan(args.map((arg) => arg.startsWith('examples/') ? join(cwd, arg) : arg))
  const out = join(dir, 'readme.ndjson')
  const scan = await inRoot(['submit', 'examples/scan.json', '--wait', '--out', out])
  assert.equal(scan.code, 0, scan.stderr)
  assert.match(scan.stderr, /succeeded: 1000000 records, 0 skipped, 500000 results written to /)
  assert.equal(readFileSync(out, 'utf8').split('\n').length - 1, 500000)
  const bad = await inRoot(['submit', 'examples/bad.json', '--wait'])
  assert.equal(bad.code, 3)
  assert.match(bad.stderr, /PARASCAN_RECORD_FAILED: Record at offset 2 failed: pipeline\[0\]\.map: /)
  const slow = await inRoot(['submit', 'examples/slow.json'])
  assert.equal(slow.code, 0, slow.stderr)
  const cancel = await parascan(['cancel', slow.stdout.trim()])
  assert.equal(cancel.code, 0, cancel.stderr)
  const list = await parascan(['list', '--limit', '5'])
  assert.match(list.stdout, new RegExp(`^${slow.stdout.trim()}\\s+(cancelled|running|queued)\\s`, 'm'))
})
