import assert from 'node:assert/strict'
import { symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import type { RunningServer } from '../../src/server.js'
import { realServer, tempDataDir, waitFor } from '../helpers/service-harness.js'

const pluginDir = fileURLToPath(new URL('../../examples/processors/', import.meta.url))

describe('file sources and pipelines through the HTTP API', () => {
  let server: RunningServer
  before(async () => {
    const dataDir = tempDataDir()
    const events = Array.from({ length: 4000 }, (_, i) => ({ id: i, type: ['view', 'purchase'][i % 2], amount: i % 250, user: `ü${i % 7}` }))
    writeFileSync(join(dataDir, 'events.ndjson'), events.map((e) => JSON.stringify(e)).join('\n'))
    writeFileSync(join(dataDir, 'events.csv'), 'id,type,amount,note\r\n' + events.map((e) => `${e.id},${e.type},${e.amount},"a, ""b""\nc"`).join('\r\n') + '\r\n')
    symlinkSync('/etc/hostname', join(dataDir, 'escape.ndjson'))
    server = await realServer({ DATA_DIR: dataDir, PROCESSORS_DIR: pluginDir })
  })
  after(async () => { await server.close() })

  async function submit (body: object) {
    return server.app.inject({ method: 'POST', url: '/v1/scans', payload: body })
  }

  async function results (body: object): Promise<{ status: string, error: unknown, items: unknown[] }> {
    const response = await submit(body)
    assert.equal(response.statusCode, 202, response.body)
    const id = response.json().id as string
    const doc = await waitFor(async () => {
      const status = (await server.app.inject({ method: 'GET', url: `/v1/scans/${id}` })).json()
      return ['succeeded', 'failed', 'cancelled'].includes(status.status) ? status : undefined
    }, 20_000)
    if (doc.status !== 'succeeded') return { status: doc.status, error: doc.error, items: [] }
    const items: unknown[] = []
    let cursor: string | undefined
    for (;;) {
      const page = (await server.app.inject({ method: 'GET', url: `/v1/scans/${id}/results?limit=10000${cursor === undefined ? '' : `&cursor=${cursor}`}` })).json()
      items.push(...page.items)
      if (page.complete) return { status: doc.status, error: null, items }
      cursor = page.next_cursor
    }
  }

  it('filters and maps an NDJSON file in order', async () => {
    const run = await results({ source: { type: 'file', path: 'events.ndjson', format: 'ndjson' }, pipeline: [{ filter: 'record.type == "purchase" && record.amount > 240.0' }, { map: 'record.user + ":" + string(int(record.id))' }], ordered: true })
    const expected = []
    for (let i = 0; i < 4000; i++) if (i % 2 === 1 && i % 250 > 240) expected.push(`ü${i % 7}:${i}`)
    assert.deepEqual(run.items, expected)
  })

  it('tells the file format from the extension when none is given; an unknown extension is a 400 at source.format', async () => {
    const ndjson = await results({ source: { type: 'file', path: 'events.ndjson' }, pipeline: [{ filter: 'record.id < 3' }, { map: 'record.id' }], ordered: true })
    assert.deepEqual(ndjson.items, [0, 1, 2])
    const csv = await results({ source: { type: 'file', path: 'events.csv', columns: { id: 'integer' } }, pipeline: [{ filter: 'record.id % 1000 == 0' }, { map: 'record.id' }], ordered: true })
    assert.deepEqual(csv.items, [0, 1000, 2000, 3000])
    writeFileSync(join(server.config.dataDir, 'events.txt'), '1\n')
    const refused = await submit({ source: { type: 'file', path: 'events.txt' } })
    assert.equal(refused.statusCode, 400, refused.body)
    assert.equal(refused.json().errors[0].path, 'source.format')
    assert.match(refused.json().errors[0].message, /give "format": "ndjson" or "csv"; it cannot be told from the extension of "events.txt"/)
  })

  it('aggregates a CSV file with typed columns and quoted line breaks', async () => {
    const run = await results({
      source: { type: 'file', path: 'events.csv', format: 'csv', columns: { amount: 'number' } },
      pipeline: [{ filter: 'record.note == "a, \\"b\\"\\nc"' }],
      aggregate: { group_by: 'record.type', metrics: { n: { op: 'count' }, total: { op: 'sum', expr: 'record.amount' } } }
    })
    let purchase = 0
    let view = 0
    for (let i = 0; i < 4000; i++) if (i % 2 === 1) purchase += i % 250; else view += i % 250
    assert.deepEqual(run.items, [{ group: 'purchase', n: 2000, total: purchase }, { group: 'view', n: 2000, total: view }])
  })

  it('runs a plug-in processor from PROCESSORS_DIR', async () => {
    const run = await results({ source: { type: 'inline', records: [{ u: 'a', pin: '1' }, { u: 'b' }] }, pipeline: [{ processor: 'redact_fields', params: { fields: ['pin'], drop_unmatched: true } }] })
    assert.deepEqual(run.items, [{ u: 'a', pin: '***' }])
  })

  it('answers bad scans with problem+json naming the field', async () => {
    const cases: Array<[object, number, string, string]> = [
      [{ source: { type: 'file', path: '../etc/passwd', format: 'ndjson' } }, 400, 'PARASCAN_PATH_OUTSIDE_DATA_DIR', 'source.path'],
      [{ source: { type: 'file', path: 'escape.ndjson', format: 'ndjson' } }, 400, 'PARASCAN_PATH_OUTSIDE_DATA_DIR', 'source.path'],
      [{ source: { type: 'file', path: 'missing.ndjson', format: 'ndjson' } }, 422, 'PARASCAN_SOURCE_FILE', 'source.path'],
      [{ source: { type: 'range', start: 0, end: 5 }, pipeline: [{ filter: 'record >' }] }, 400, 'PARASCAN_INVALID_SCAN', 'pipeline[0].filter'],
      [{ source: { type: 'range', start: 0, end: 5 }, pipeline: [{ filter: 'record' }] }, 400, 'PARASCAN_INVALID_SCAN', 'pipeline[0].filter'],
      [{ source: { type: 'range', start: 0, end: 5 }, pipeline: [{ processor: 'synthetic', params: { cost_us: 'x' } }] }, 400, 'PARASCAN_INVALID_SCAN', 'pipeline[0].params.cost_us'],
      [{ source: { type: 'range', start: 0, end: 5 }, aggregate: { metrics: { s: { op: 'sum' } } } }, 400, 'PARASCAN_INVALID_SCAN', 'aggregate.metrics.s.expr']
    ]
    for (const [body, status, code, path] of cases) {
      const response = await submit(body)
      assert.equal(response.statusCode, status, response.body)
      assert.match(String(response.headers['content-type']), /application\/problem\+json/)
      const problem = response.json()
      assert.equal(problem.code, code)
      assert.equal(problem.errors[0].path, path, response.body)
    }
  })

  it('fails a scan at a CEL runtime error, naming the offset', async () => {
    const run = await results({ source: { type: 'inline', records: [{ a: 1 }, { a: 'x' }] }, pipeline: [{ map: 'record.a * 2.0' }] })
    assert.equal(run.status, 'failed')
    assert.equal((run.error as { offset: number }).offset, 1)
    assert.match((run.error as { message: string }).message, /pipeline\[0\]\.map: no such overload/)
  })
})
