import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import type { RunningServer } from '../../src/server.js'
import { consoleSessions, shellCommands, splitShell } from '../helpers/readme-commands.js'
import { realServer, waitFor } from '../helpers/service-harness.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g
const FINISHED = new Set(['succeeded', 'failed', 'cancelled'])

interface Ran { code: number | null, stdout: string, stderr: string }

/** A directory with `examples/` of the project and a `parascan` on PATH: where the README's commands run. */
function workspace (): { dir: string, env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'parascan-readme-'))
  symlinkSync(join(ROOT, 'examples'), join(dir, 'examples'))
  mkdirSync(join(dir, 'bin'))
  writeFileSync(join(dir, 'bin', 'parascan'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`)
  chmodSync(join(dir, 'bin', 'parascan'), 0o755)
  return { dir, env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}` } }
}

function bash (command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => { stdout += chunk })
    child.stderr.on('data', (chunk) => { stderr += chunk })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

async function scanStatus (base: string, id: string): Promise<string> {
  return ((await (await fetch(`${base}/v1/scans/${id}`)).json()) as { status: string }).status
}

/** Lines as the README shows them, with what changes from run to run (ids, times, rates, cursors) masked. */
function normalize (line: string): string {
  return line.replace(UUID, '<id>')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
    .replace(/[\d.]+[kM]? (rec|records)\/s/g, '<rate>')
    .replace(/ETA (\?|[\d.]+s)/g, 'ETA <eta>')
    .replace(/--cursor \S+/g, '--cursor <cursor>')
    .replace(/\s+/g, ' ').trim()
}

/** Output lines that differ between runs by nature: progress lines and rows of the scan list. */
function volatile (line: string): boolean {
  return /^scan <id> (queued|running|succeeded|failed|cancelled) \d+\/\d+ records/.test(line) || /^<id> (queued|running|succeeded|failed|cancelled) /.test(line)
}

/** A real instance and a scratch directory for the tests of the enclosing describe. */
function liveInstance (): { server: RunningServer, space: { dir: string, env: NodeJS.ProcessEnv } } {
  const live = {} as { server: RunningServer, space: { dir: string, env: NodeJS.ProcessEnv } }
  before(async () => {
    live.server = await realServer()
    live.space = workspace()
  })
  after(async () => {
    await live.server.close()
    rmSync(live.space.dir, { recursive: true, force: true })
  })
  return live
}

describe('README', () => {
  it('finds the commands: curl lines of every sh block, the console session', () => {
    const curls = shellCommands(README, ['curl'])
    assert.ok(curls.length >= 10, `${curls.length} curl lines`)
    assert.ok(curls.every((c) => !c.command.includes('\n#')))
    assert.deepEqual(splitShell("curl -d '{\n  \"a\": 1 }' x   # shows #1\ncurl y"), [{ command: "curl -d '{\n  \"a\": 1 }' x", comment: 'shows #1' }, { command: 'curl y', comment: '' }])
    const session = consoleSessions(README).flat()
    assert.ok(session.filter((step) => step.command.startsWith('parascan ')).length >= 8)
  })

  describe('every curl line runs against a real instance', () => {
    const live = liveInstance()

    it('with $ID and $NEXT_CURSOR from the lines before, answering as the README says', async () => {
      const address = live.server.url.replace(/^http:\/\//, '')
      const vars: Record<string, string> = {}
      for (const { command, comment } of shellCommands(README, ['curl'])) {
        assert.match(command, /localhost:3000/, command)
        const line = command.replaceAll('localhost:3000', address) + ' -w \'\\n%{http_code}\''
        const ran = await bash(line, live.space.dir, { ...live.space.env, ...vars })
        assert.equal(ran.code, 0, `${command}\n${ran.stderr}`)
        const cut = ran.stdout.lastIndexOf('\n')
        const status = Number(ran.stdout.slice(cut + 1))
        let body = ran.stdout.slice(0, cut)
        if (body.startsWith('HTTP/')) body = body.slice(body.indexOf('\r\n\r\n') + 4)
        const allowed = /\/cancel\b/.test(command) ? [202, 409] : [200, 202, 204]
        assert.ok(allowed.includes(status), `${command}: HTTP ${status} ${body.slice(0, 300)}`)
        let json: Record<string, unknown> | undefined
        try { json = JSON.parse(body) as Record<string, unknown> } catch { json = undefined }
        for (const [, key] of comment.matchAll(/"(\w+)":/g)) assert.ok(json !== undefined && key in json, `${command}: no "${key}" in ${body.slice(0, 300)}`)
        if (command.includes('-X POST') || !/ -d '/.test(command)) {
          if (typeof json?.next_cursor === 'string') vars.NEXT_CURSOR = json.next_cursor
        } else {
          assert.equal(typeof json?.id, 'string', body)
          vars.ID = json?.id as string
          await waitFor(async () => FINISHED.has(await scanStatus(live.server.url, vars.ID)) ? true : undefined, 60_000)
        }
        if (command.includes('-o results.ndjson')) {
          const count = ((await (await fetch(`${live.server.url}/v1/scans/${vars.ID}`)).json()) as { result: { count: number } }).result.count
          assert.equal(readFileSync(join(live.space.dir, 'results.ndjson'), 'utf8').split('\n').length - 1, count)
        }
      }
      assert.ok(vars.ID !== undefined && vars.NEXT_CURSOR !== undefined)
    })
  })

  describe('the command-line session runs as recorded', () => {
    const live = liveInstance()

    it('every $ line, recorded ids replaced by the ones of this run, prints what the README shows', async () => {
      const env = { ...live.space.env, PARASCAN_URL: live.server.url }
      const ids = new Map<string, string>()
      let more: string | undefined
      for (const step of consoleSessions(README).flat()) {
        const command = step.command.replace(UUID, (id) => ids.get(id) ?? id)
        for (const id of command.match(UUID) ?? []) {
          const wanted = command.startsWith('parascan cancel') ? (s: string) => s === 'running' : (s: string) => FINISHED.has(s)
          await waitFor(async () => wanted(await scanStatus(live.server.url, id)) ? true : undefined, 60_000)
        }
        const ran = await bash(command, live.space.dir, env)
        const printed = (ran.stdout + ran.stderr).split('\n').filter((line) => line !== '')
        if (!/echo "exit \$\?"/.test(command)) assert.equal(ran.code, 0, `${command}\n${ran.stderr}`)
        const recordedIds = [...new Set(step.output.join('\n').match(UUID) ?? [])]
        const actualIds = [...new Set(printed.join('\n').match(UUID) ?? [])]
        recordedIds.forEach((id, i) => { if (actualIds[i] !== undefined && !ids.has(id)) ids.set(id, actualIds[i]) })
        const actual = new Set(printed.map(normalize))
        for (const line of step.output.map(normalize)) {
          if (volatile(line)) continue
          assert.ok(actual.has(line), `${command}\nREADME shows: ${line}\nprinted:\n${printed.join('\n')}`)
        }
        more = printed.find((line) => line.startsWith('more: parascan ')) ?? more
      }
      assert.ok(more !== undefined, 'the list printed the command of its next page')
      const next = await bash(more.slice('more: '.length), live.space.dir, env)
      assert.equal(next.code, 0, next.stderr)
      assert.match(next.stdout, /^ID\s+STATUS/)
    })
  })
})
