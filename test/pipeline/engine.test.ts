import assert from 'node:assert/strict'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { WorkStealingPool } from '../../src/index.js'
import { planScan, type ScanContext } from '../../src/pipeline/index.js'
import { makeDataDir, request, type DataDir } from '../helpers/scan-task-harness.js'

const pluginDir = fileURLToPath(new URL('../../examples/processors/', import.meta.url))

describe('scans through the engine', () => {
  let data: DataDir
  let ctx: ScanContext
  let pool: WorkStealingPool
  before(async () => {
    data = await makeDataDir()
    ctx = { ...data.ctx, processorsDir: pluginDir }
    pool = new WorkStealingPool({ config: { max_workers: 2, initial_chunk_size: 64, min_chunk_size: 16, max_chunk_size: 512 } })
  })
  after(async () => {
    await pool.close()
    await data.remove()
  })

  async function run (body: unknown): Promise<unknown[]> {
    const plan = await planScan(request(body), ctx)
    return pool.scan(plan.total, plan.task, { ordered: plan.ordered, on_error: plan.on_error })
  }

  it('runs range + filter + map in order', async () => {
    const results = await run({ source: { type: 'range', start: 0, end: 20000 }, pipeline: [{ filter: 'record % 3 == 0' }, { map: 'record * 2' }], ordered: true })
    const expected: number[] = []
    for (let i = 0; i < 20000; i++) if (i % 3 === 0) expected.push(i * 2)
    assert.deepEqual(results, expected)
  })

  it('scans NDJSON with unicode and escaped newlines, and CSV with quoted line breaks', async () => {
    const records = Array.from({ length: 3000 }, (_, i) => ({ i, name: `naïve ${i} 🦊`, text: `a\nb "${i}"` }))
    await writeFile(join(data.dir, 'u.ndjson'), records.map((r) => JSON.stringify(r)).join('\n'))
    assert.deepEqual(await run({ source: { type: 'file', path: 'u.ndjson', format: 'ndjson' }, ordered: true }), records)
    const csv = 'i,name,text\r\n' + records.map((r) => `${r.i},"${r.name}","${r.text.replaceAll('"', '""')}"`).join('\r\n') + '\r\n'
    await writeFile(join(data.dir, 'u.csv'), csv)
    assert.deepEqual(await run({ source: { type: 'file', path: 'u.csv', format: 'csv', columns: { i: 'integer' } }, ordered: true }), records)
  })

  it('aggregates in the workers and merges to the plain computation', async () => {
    const records = Array.from({ length: 5000 }, (_, i) => ({ country: ['DE', 'FR', 'US'][i % 3], amount: (i % 97) + 0.5, ok: i % 5 !== 0 }))
    await writeFile(join(data.dir, 'agg.ndjson'), records.map((r) => JSON.stringify(r)).join('\n') + '\n')
    const rows = await run({
      source: { type: 'file', path: 'agg.ndjson', format: 'ndjson' },
      pipeline: [{ filter: 'record.ok' }],
      aggregate: { group_by: 'record.country', metrics: { n: { op: 'count' }, total: { op: 'sum', expr: 'record.amount' }, top: { op: 'max', expr: 'record.amount' }, mean: { op: 'avg', expr: 'record.amount' } } }
    }) as Array<Record<string, number | string>>
    const expected = ['DE', 'FR', 'US'].map((country) => {
      const kept = records.filter((r) => r.ok && r.country === country)
      const total = kept.reduce((s, r) => s + r.amount, 0)
      return { group: country, n: kept.length, total, top: Math.max(...kept.map((r) => r.amount)), mean: total / kept.length }
    })
    assert.equal(rows.length, 3)
    rows.forEach((row, i) => {
      assert.equal(row.group, expected[i].group)
      assert.equal(row.n, expected[i].n)
      assert.equal(row.top, expected[i].top)
      assert.ok(Math.abs((row.total as number) - expected[i].total) < 1e-6)
      assert.ok(Math.abs((row.mean as number) - expected[i].mean) < 1e-9)
    })
  })

  it('runs a plug-in processor in the worker threads', async () => {
    const results = await run({ source: { type: 'inline', records: Array.from({ length: 500 }, (_, i) => ({ i, pin: String(i) })) }, pipeline: [{ processor: 'redact_fields', params: { fields: ['pin'], mask: '#' } }], ordered: true })
    assert.deepEqual(results, Array.from({ length: 500 }, (_, i) => ({ i, pin: '#' })))
  })

  it('fails on a CEL runtime error naming the offset, or skips it', async () => {
    const records = Array.from({ length: 1000 }, (_, i) => (i === 700 ? { other: 1 } : { v: i }))
    const body = { source: { type: 'inline', records }, pipeline: [{ map: 'record.v * 2.0' }] }
    await assert.rejects(run(body), (error: Error) => /offset 700/.test(error.message) && /No such key: v/.test(error.message))
    const plan = await planScan(request({ ...body, on_error: 'skip' }), ctx)
    const results: unknown[] = []
    const summary = await pool.stream(plan.total, plan.task, { on_error: 'skip', onBatch: (batch) => { results.push(...JSON.parse(batch.json)) } })
    assert.equal(results.length, 999)
    assert.equal(summary.skipped, 1)
    assert.equal(summary.errors[0].offset, 700)
  })

  it('fails the scan, naming the file, when the file is gone before it runs', async () => {
    await writeFile(join(data.dir, 'gone.ndjson'), '{"a":1}\n{"a":2}\n')
    const plan = await planScan(request({ source: { type: 'file', path: 'gone.ndjson', format: 'ndjson' } }), ctx)
    await rm(join(data.dir, 'gone.ndjson'))
    await assert.rejects(pool.scan(plan.total, plan.task, {}), /source file gone\.ndjson cannot be opened: ENOENT/)
    assert.deepEqual(await run({ source: { type: 'range', start: 0, end: 3 }, ordered: true }), [0, 1, 2])
  })

  it('gives the records of a random NDJSON file that a plain loop gives (property)', async () => {
    const value = fc.jsonValue({ maxDepth: 2 }).filter((v) => v !== null)
    await fc.assert(fc.asyncProperty(fc.array(value, { maxLength: 300 }), fc.array(fc.constantFrom('\n', '\r\n', '\n\n', '\n  \n')), async (values, separators) => {
      const text = values.map((v, i) => JSON.stringify(v) + (separators[i % Math.max(1, separators.length)] ?? '\n')).join('')
      await writeFile(join(data.dir, 'random.ndjson'), text)
      const expected = text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as unknown)
      const got = await run({ source: { type: 'file', path: 'random.ndjson', format: 'ndjson' }, ordered: true })
      assert.deepEqual(got, expected)
    }), { numRuns: 25 })
  })
})
