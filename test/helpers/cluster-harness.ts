import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import assert from 'node:assert/strict'
import { freePort } from './free-port.js'
import { http, tempDataDir, waitFor } from './service-harness.js'

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url))
export const PROCESSORS_DIR = fileURLToPath(new URL('../fixtures/processors/', import.meta.url))

export interface Instance {
  child: ChildProcess
  url: string
  pid: number
  exited: Promise<number | null>
}

/** A service instance in a process of its own (one worker thread unless `env` says otherwise). */
export async function startInstance (env: Record<string, string>, children: ChildProcess[]): Promise<Instance> {
  const port = await freePort()
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent', PROTO_PARALLEL_MAX_WORKERS: '1', DATA_DIR: tempDataDir(), PROCESSORS_DIR, ...env },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  children.push(child)
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000) })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const url = `http://127.0.0.1:${port}`
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`instance exited with ${child.exitCode}: ${stderr}`)
    try {
      return (await fetch(`${url}/readyz`)).ok ? true : undefined
    } catch {
      return undefined
    }
  }, 90_000, 100).catch((error: Error) => { throw new Error(`${error.message}; instance stderr: ${stderr}`) })
  return { child, url, pid: child.pid!, exited }
}

export async function finished (base: string, id: string, timeoutMs = 60_000): Promise<any> {
  return await waitFor(async () => {
    const { status, json } = await http(base, 'GET', `/v1/scans/${id}`)
    if (status === 503) return undefined
    assert.equal(status, 200, JSON.stringify(json))
    return json.status === 'running' || json.status === 'queued' ? undefined : json
  }, timeoutMs, 100)
}

/** Every result, following next_cursor (waiting while the scan runs). */
export async function readAll (base: string, id: string, limit = 777): Promise<unknown[]> {
  const items: unknown[] = []
  let cursor: string | undefined
  for (;;) {
    const { status, json } = await http(base, 'GET', `/v1/scans/${id}/results?limit=${limit}${cursor === undefined ? '' : `&cursor=${cursor}`}`)
    assert.equal(status, 200, JSON.stringify(json))
    items.push(...json.items)
    if (json.complete) return items
    cursor = json.next_cursor
    if (json.items.length === 0) await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
