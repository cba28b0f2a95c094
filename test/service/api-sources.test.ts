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

  it('keeps CSV columns and aggregate metrics named __proto__ and constructor, from the request body to the results', async () => {
    writeFileSync(join(server.config.dataDir, 'keys.csv'), '__proto__,constructor,toString\n1,"{""__proto__"":{""admin"":true}}",a\n2,null,b\n')
    const source = '{"type":"file","path":"keys.csv","columns":{"__proto__":"integer","constructor":"json"}}'
    const rows = await results(JSON.parse(`{"source":${source},"pipeline":[{"map":"record"}],"ordered":true}`) as object)
    assert.equal(JSON.stringify(rows.items), '[{"__proto__":1,"constructor":{"__proto__":{"admin":true}},"toString":"a"},{"__proto__":2,"constructor":null,"toString":"b"}]')
    const metrics = '{"__proto__":{"op":"sum","expr":"record[\\"__proto__\\"]"},"constructor":{"op":"avg","expr":"record.constructor"},"toString":{"op":"count"}}'
    const aggregate = await results(JSON.parse(`{"source":${source},"pipeline":[{"filter":"record[\\"__proto__\\"] > 1.0"},{"map":"{\\"__proto__\\": record[\\"__proto__\\"], \\"constructor\\": null}"}],"aggregate":{"metrics":${metrics}}}`) as object)
    assert.equal(aggregate.status, 'succeeded', JSON.stringify(aggregate.error))
    assert.equal(JSON.stringify(aggregate.items), '[{"group":null,"__proto__":2,"constructor":null,"toString":1}]')
    const wrongType = await submit(JSON.parse(`{"source":{"type":"file","path":"keys.csv","columns":{"__proto__":"decimal"}}}`) as object)
    assert.equal(wrongType.statusCode, 400, wrongType.body)
    assert.deepEqual(wrongType.json().errors.map((e: { path: string }) => e.path), ['source.columns.__proto__'])
    const missing = await submit(JSON.parse(`{"source":{"type":"file","path":"events.csv","columns":{"__proto__":"integer"}}}`) as object)
    assert.equal(missing.statusCode, 400, missing.body)
    assert.deepEqual(missing.json().errors, [{ path: 'source.columns.__proto__', message: 'events.csv has no column "__proto__"' }])
    const badMetric = await submit(JSON.parse(`{"source":${source},"aggregate":{"metrics":{"__proto__":{"op":"median","expr":"1"}}}}`) as object)
    assert.equal(badMetric.statusCode, 400, badMetric.body)
    assert.deepEqual(badMetric.json().errors.map((e: { path: string }) => e.path), ['aggregate.metrics.__proto__.op'])
    assert.equal(({} as Record<string, unknown>).admin, undefined)
  })

  it('fails a record whose bytes are not UTF-8 with PARASCAN_INVALID_ENCODING and its offset; on_error skip skips it', async () => {
    const latin1 = Buffer.concat([Buffer.from('{"n":"a"}\n{"n":"b"}\n{"n":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n{"n":"d"}\n')])
    writeFileSync(join(server.config.dataDir, 'latin1.ndjson'), latin1)
    const failed = await results({ source: { type: 'file', path: 'latin1.ndjson' }, pipeline: [{ map: 'record.n' }] })
    assert.equal(failed.status, 'failed')
    assert.deepEqual(failed.error, { code: 'PARASCAN_INVALID_ENCODING', message: 'Record at offset 2 failed: latin1.ndjson: not valid UTF-8 at byte 29 of the file (bytes e9)', offset: 2 })
    const skip = await submit({ source: { type: 'file', path: 'latin1.ndjson' }, pipeline: [{ filter: 'record.n == "d"' }], on_error: 'skip' })
    const id = skip.json().id as string
    const doc = await waitFor(async () => {
      const status = (await server.app.inject({ method: 'GET', url: `/v1/scans/${id}` })).json()
      return status.status === 'succeeded' ? status : undefined
    }, 20_000)
    assert.equal(doc.progress.skipped, 1)
    assert.deepEqual(doc.errors, [{ offset: 2, message: 'latin1.ndjson: not valid UTF-8 at byte 29 of the file (bytes e9)', code: 'PARASCAN_INVALID_ENCODING' }])
    writeFileSync(join(server.config.dataDir, 'latin1.csv'), Buffer.concat([Buffer.from('id,name\n1,"a,b"\n2,"caf'), Buffer.from([0xe9]), Buffer.from(' ""x""\ny"\n')]))
    const csv = await results({ source: { type: 'file', path: 'latin1.csv' }, pipeline: [{ map: 'record.name' }] })
    assert.deepEqual(csv.error, { code: 'PARASCAN_INVALID_ENCODING', message: 'Record at offset 1 failed: latin1.csv: not valid UTF-8 at byte 22 of the file (bytes e9)', offset: 1 })
  })
})
