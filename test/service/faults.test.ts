import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, writeFileSync, mkdtempSync } from 'node:fs'
import { truncate, unlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { RunningServer } from '../../src/server.js'
import { realServer, tempDataDir, waitFor } from '../helpers/service-harness.js'

const PROCESSORS_DIR = fileURLToPath(new URL('../fixtures/processors/', import.meta.url))
const servers: RunningServer[] = []
after(async () => { await Promise.allSettled(servers.map(async (server) => await server.close())) })

async function start (env: Record<string, string>): Promise<RunningServer> {
  const server = await realServer({ PROCESSORS_DIR, PARASCAN_PROGRESS_INTERVAL: '50ms', ...env })
  servers.push(server)
  return server
}

async function submit (server: RunningServer, payload: object): Promise<string> {
  const response = await server.app.inject({ method: 'POST', url: '/v1/scans', payload })
  assert.equal(response.statusCode, 202, response.body)
  return response.json().id
}

async function finished (server: RunningServer, id: string): Promise<any> {
  return await waitFor(async () => {
    const doc = (await server.app.inject({ method: 'GET', url: `/v1/scans/${id}` })).json()
    return ['succeeded', 'failed', 'cancelled'].includes(doc.status) ? doc : undefined
  }, 30_000)
}

async function readAll (server: RunningServer, id: string): Promise<unknown[]> {
  const items: unknown[] = []
  let cursor: string | undefined
  for (;;) {
    const page = (await server.app.inject({ method: 'GET', url: `/v1/scans/${id}/results?limit=10000${cursor === undefined ? '' : `&cursor=${cursor}`}` })).json()
    items.push(...page.items)
    if (page.complete) return items
    cursor = page.next_cursor
  }
}

async function stillServes (server: RunningServer): Promise<void> {
  const doc = await finished(server, await submit(server, { source: { type: 'range', start: 0, end: 5000 }, pipeline: [{ filter: 'record % 5 == 0' }] }))
  assert.equal(doc.status, 'succeeded')
  assert.equal(doc.result.count, 1000)
}

test('a worker thread killed mid-chunk: the scan succeeds through the service with every record exactly once', async () => {
  const server = await start({})
  const marker = join(mkdtempSync(join(tmpdir(), 'parascan-crash-')), 'crashed')
  const total = 150_000
  const id = await submit(server, {
    source: { type: 'range', start: 0, end: total },
    pipeline: [{ processor: 'crash_once', params: { at: 98_765, marker } }],
    ordered: true
  })
  const doc = await finished(server, id)
  assert.ok(existsSync(marker), 'a worker thread exited')
  assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
  assert.deepEqual(doc.result, { count: total, truncated: false, partial: false })
  assert.equal(doc.metrics.workers.reduce((sum: number, worker: { records_processed: number }) => sum + worker.records_processed, 0), total)
  const items = await readAll(server, id)
  assert.equal(items.length, total)
  assert.ok(items.every((value, i) => value === i), 'each record once, in order')
  await stillServes(server)
})

function ndjson (count: number): string {
  return Array.from({ length: count }, (_, i) => JSON.stringify({ id: i, pad: 'x'.repeat(40) })).join('\n') + '\n'
}

const slowFile = (path: string) => ({
  source: { type: 'file', path, format: 'ndjson' },
  pipeline: [{ processor: 'synthetic', params: { cost_us: 40 } }],
  parallel: { initial_chunk_size: 256, max_chunk_size: 512 }
})

async function runningPastStart (server: RunningServer, id: string): Promise<void> {
  await waitFor(async () => {
    const doc = (await server.app.inject({ method: 'GET', url: `/v1/scans/${id}` })).json()
    return doc.status === 'running' && doc.progress.processed > 0 ? true : undefined
  }, 15_000, 10)
}

test('a data file truncated while a scan reads it: the scan fails naming the file, the service keeps serving', async () => {
  const dataDir = tempDataDir()
  const records = 100_000
  writeFileSync(join(dataDir, 'shrinks.ndjson'), ndjson(records))
  const server = await start({ DATA_DIR: dataDir })
  const id = await submit(server, slowFile('shrinks.ndjson'))
  await runningPastStart(server, id)
  await truncate(join(dataDir, 'shrinks.ndjson'), 1000)
  const doc = await finished(server, id)
  assert.equal(doc.status, 'failed')
  assert.match(doc.error.message, /shrinks\.ndjson was truncated while it was scanned/)
  assert.equal(typeof doc.error.code, 'string')
  assert.ok(doc.progress.processed < records)
  const results = (await server.app.inject({ method: 'GET', url: `/v1/scans/${id}/results?limit=10000` })).json()
  assert.equal(results.partial, true)
  assert.ok(results.items.length <= doc.result.count)
  await stillServes(server)
})

test('a data file removed while a scan reads it: the scan ends with all its records or fails cleanly; the service keeps serving', async () => {
  const dataDir = tempDataDir()
  const records = 60_000
  writeFileSync(join(dataDir, 'gone.ndjson'), ndjson(records))
  const server = await start({ DATA_DIR: dataDir })
  const id = await submit(server, slowFile('gone.ndjson'))
  await runningPastStart(server, id)
  await unlink(join(dataDir, 'gone.ndjson'))
  const doc = await finished(server, id)
  if (doc.status === 'succeeded') {
    assert.deepEqual(doc.result, { count: records, truncated: false, partial: false }, 'open files are read to the end: never a partial result')
  } else {
    assert.equal(doc.status, 'failed')
    assert.match(doc.error.message, /gone\.ndjson/)
  }
  const again = await server.app.inject({ method: 'POST', url: '/v1/scans', payload: slowFile('gone.ndjson') })
  assert.equal(again.statusCode, 422, again.body)
  assert.equal(again.json().code, 'PARASCAN_SOURCE_FILE')
  await stillServes(server)
})
