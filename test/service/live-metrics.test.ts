import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import type { RunningServer } from '../../src/server.js'
import { realServer, tempDataDir, waitFor } from '../helpers/service-harness.js'

let server: RunningServer

before(async () => {
  server = await realServer({ DATA_DIR: tempDataDir(), PARASCAN_PROGRESS_INTERVAL: '100ms' })
})
after(async () => { await server.close() })

function series (text: string, name: string): Map<string, number> {
  const found = new Map<string, number>()
  for (const m of text.matchAll(new RegExp(`^${name}\\{worker_id="(\\d+)"\\} ([0-9.e+-]+)$`, 'gm'))) found.set(m[1], Number(m[2]))
  return found
}

test('per-worker counters and chunk histograms move on /metrics while a scan runs', async () => {
  const metricsText = async (): Promise<string> => (await server.app.inject({ method: 'GET', url: '/metrics' })).body
  const before = await metricsText()
  const submitted = await server.app.inject({
    method: 'POST',
    url: '/v1/scans',
    payload: { source: { type: 'range', start: 0, end: 2_000_000 }, pipeline: [{ processor: 'synthetic', params: { cost_us: 20 } }], parallel: { max_workers: 2 } }
  })
  assert.equal(submitted.statusCode, 202, submitted.body)
  const id = submitted.json().id as string
  try {
    const running = await waitFor(async () => {
      const doc = (await server.app.inject({ method: 'GET', url: `/v1/scans/${id}` })).json()
      return doc.status === 'running' ? doc : undefined
    })
    const startedAt = Date.parse(running.started_at)
    const live = await waitFor(async () => {
      const text = await metricsText()
      const records = series(text, 'parascan_records_processed_total')
      const chunks = series(text, 'parascan_chunk_size_records_count')
      const sums = series(text, 'parascan_chunk_size_records_sum')
      if (records.size < 2 || [...records.values()].some((n) => n === 0)) return undefined
      return { text, records, chunks, sums, at: Date.now() }
    }, 10_000, 50)
    const doc = (await server.app.inject({ method: 'GET', url: `/v1/scans/${id}` })).json()
    assert.equal(doc.status, 'running', 'the scan still runs')
    assert.ok(live.at - startedAt <= 4000, `per-worker counters moved ${live.at - startedAt} ms into the scan`)
    assert.equal(series(before, 'parascan_records_processed_total').size, 0, 'nothing before the scan')
    for (const [worker, records] of live.records) {
      assert.ok((live.chunks.get(worker) ?? 0) > 0, `worker ${worker} has chunks`)
      assert.equal(live.sums.get(worker), records, 'the chunk-size sum is the records processed, an integer')
    }
  } finally {
    await server.app.inject({ method: 'POST', url: `/v1/scans/${id}/cancel` })
    await waitFor(async () => {
      const doc = (await server.app.inject({ method: 'GET', url: `/v1/scans/${id}` })).json()
      return ['succeeded', 'failed', 'cancelled'].includes(doc.status) ? doc : undefined
    }, 20_000)
  }
  const text = await metricsText()
  const records = series(text, 'parascan_records_processed_total')
  const sums = series(text, 'parascan_chunk_size_records_sum')
  for (const [worker, n] of records) assert.equal(sums.get(worker), n, 'after the scan, the chunk-size sum is still exact')
})
