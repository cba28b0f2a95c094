import { after } from 'node:test'
import assert from 'node:assert/strict'
import type { RunningServer } from '../../src/server.js'
import { http, realServer, waitFor } from './service-harness.js'

/** For one test file: `start(env)` starts a server, `onClose(fn)` adds a clean-up; all run, newest first, after the file's tests. */
export function serverStarter (): { start: (env?: Record<string, string>) => Promise<RunningServer>, onClose: (fn: () => Promise<void>) => void } {
  const closers: Array<() => Promise<void>> = []
  after(async () => { for (const close of closers.reverse()) await close() })
  const onClose = (fn: () => Promise<void>): void => { closers.push(fn) }
  const start = async (env: Record<string, string> = {}): Promise<RunningServer> => {
    const server = await realServer(env)
    onClose(async () => await server.close())
    return server
  }
  return { start, onClose }
}

export async function finished (base: string, id: string, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<any> {
  return await waitFor(async () => {
    const doc = (await http(base, 'GET', `/v1/scans/${id}`, undefined, headers)).json
    return ['succeeded', 'failed', 'cancelled'].includes(doc.status) ? doc : undefined
  }, timeoutMs, 50)
}

export async function submit (base: string, body: unknown, headers: Record<string, string> = {}): Promise<string> {
  const accepted = await http(base, 'POST', '/v1/scans', body, headers)
  assert.equal(accepted.status, 202, JSON.stringify(accepted.json))
  return accepted.json.id
}
