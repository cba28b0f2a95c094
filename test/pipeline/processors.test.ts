import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'
import { WorkStealingPool } from '../../src/index.js'
import { planScan, validateScan } from '../../src/pipeline/index.js'
import { loadProcessorCatalogue, processorCatalogue } from '../../src/pipeline/processor-catalogue.js'
import { paramsJsonSchema } from '../../src/pipeline/processor.js'
import { syntheticCostUs, syntheticParamsSchema } from '../../src/pipeline/synthetic-processor.js'
import { request, runPlan, scan } from '../helpers/scan-task-harness.js'

const pluginDir = fileURLToPath(new URL('../../examples/processors/', import.meta.url))
const ctx = { dataDir: '.', processorsDir: pluginDir }

describe('processors', () => {
  it('load a plug-in from PARASCAN_PROCESSORS_DIR, check its params and run it', async () => {
    const records = [{ user: 'ann', email: 'a@x' }, { user: 'bob' }, 7]
    const body = { source: { type: 'inline', records }, pipeline: [{ processor: 'redact_fields', params: { fields: ['email'], drop_unmatched: true } }, { map: 'record.email' }] }
    const plan = await planScan(request(body), ctx)
    const step = (plan.task.params as { steps: Array<{ module?: string, params: unknown }> }).steps[0]
    assert.match(step.module ?? '', /redact-fields\.js$/)
    assert.deepEqual(step.params, { fields: ['email'], mask: '***', drop_unmatched: true })
    assert.deepEqual((await runPlan(plan)).results, ['***'])
  })

  it('refuse bad plug-in params by path, and plug-ins where no PARASCAN_PROCESSORS_DIR is set', async () => {
    await assert.rejects(validateScan(request({ source: { type: 'range', start: 0, end: 1 }, pipeline: [{ processor: 'redact_fields', params: { fields: [1] } }] }), ctx),
      (error: Error & { errors: Array<{ path: string }> }) => error.errors[0].path === 'pipeline[0].params.fields[0]')
    await assert.rejects(validateScan(request({ source: { type: 'range', start: 0, end: 1 }, pipeline: [{ processor: 'redact_fields', params: { fields: ['a'] } }] }), { dataDir: '.' }),
      /unknown processor "redact_fields"/)
  })

  it('leave out broken plug-ins (the catalogue says why, for the start-up log) without failing the others; a 400 names the known ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parascan-plugins-'))
    try {
      await writeFile(join(dir, 'double.mjs'), 'export const name = "double"\nexport const schema = { safeParse: (v) => ({ success: true, data: v }) }\nexport function process (r) { return r * 2 }\n')
      await writeFile(join(dir, 'broken.mjs'), 'export const name = "broken"\n')
      await writeFile(join(dir, 'syntax.mjs'), 'export const = 1\n')
      await writeFile(join(dir, 'notes.txt'), 'not a module')
      await writeFile(join(dir, 'odd.mjs'), 'export const name = "odd"\nexport const schema = { safeParse: (v) => ({ success: true, data: v }) }\nexport function process (r) { return r === 1 ? Symbol("one") : r === 2 ? () => r : r }\n')
      await writeFile(join(dir, 'picky.mjs'), 'export const name = "picky"\nexport const schema = { safeParse: (v) => ({ success: true, data: v }) }\nexport function process (r) { if (r === 2) throw new Error("two is not allowed"); return r }\n')
      const pluginCtx = { dataDir: '.', processorsDir: dir }
      assert.deepEqual((await scan({ source: { type: 'inline', records: [1, 2] }, pipeline: [{ processor: 'double' }] }, pluginCtx)).results, [2, 4])
      await assert.rejects(scan({ source: { type: 'inline', records: [1, 2] }, pipeline: [{ processor: 'picky' }] }, pluginCtx),
        /record 1: pipeline\[0\] \(processor picky\): two is not allowed/)
      await assert.rejects(scan({ source: { type: 'inline', records: [0, 1] }, pipeline: [{ processor: 'odd' }] }, pluginCtx),
        /record 1: pipeline\[0\] \(processor odd\): returned a symbol, which is not a JSON value/)
      const skipped = await scan({ source: { type: 'inline', records: [0, 1, 2, 3] }, pipeline: [{ processor: 'odd' }] }, pluginCtx, { onError: 'skip' })
      assert.deepEqual(skipped.results, [0, 3])
      await assert.rejects(validateScan(request({ source: { type: 'range', start: 0, end: 1 }, pipeline: [{ processor: 'broken' }] }), pluginCtx),
        (error: Error & { statusCode: number, errors: Array<{ message: string }> }) => {
          assert.equal(error.statusCode, 400)
          assert.equal(error.errors[0].message, 'unknown processor "broken"; known: synthetic, double, odd, picky')
          return true
        })
      const { problems } = await processorCatalogue(dir)
      assert.match(problems.join('\n'), /broken\.mjs does not export process \(a function\)/)
      assert.match(problems.join('\n'), /syntax\.mjs cannot be loaded: /)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('leave out plug-ins that throw at import, export garbage, link out of the directory or never finish loading; the rest load', async () => {
    const root = await mkdtemp(join(tmpdir(), 'parascan-plugins-'))
    const dir = join(root, 'processors')
    await mkdir(dir)
    const ok = 'export const schema = (z) => z.object({}).strict()\nexport function process (r) { return r }\n'
    try {
      await writeFile(join(dir, 'package.json'), '{ "type": "module" }')
      await writeFile(join(dir, 'good.js'), `export const name = "good"\nexport const description = "passes records through"\n${ok}`)
      await writeFile(join(dir, 'throws.js'), 'throw new Error("no licence key")\n')
      await writeFile(join(dir, 'number-name.js'), `export const name = 42\n${ok}`)
      await writeFile(join(dir, 'path-name.js'), `export const name = "../../etc"\n${ok}`)
      await writeFile(join(dir, 'bad-schema.js'), 'export const name = "bad_schema"\nexport const schema = { parse () {} }\nexport function process (r) { return r }\n')
      await writeFile(join(dir, 'factory-throws.js'), 'export const name = "factory_throws"\nexport const schema = () => { throw new Error("wrong zod") }\nexport function process (r) { return r }\n')
      await writeFile(join(dir, 'garbage.js'), 'export default 7\nexport const process = "x"\n')
      await writeFile(join(dir, 'hangs.js'), `await new Promise(() => {})\nexport const name = "hangs"\n${ok}`)
      await writeFile(join(dir, 'zz-again.js'), `export const name = "good"\n${ok}`)
      await writeFile(join(root, 'outside.js'), `export const name = "outside"\n${ok}`)
      await symlink(join(root, 'outside.js'), join(dir, 'link-out.js'))
      await mkdir(join(dir, 'inner'))
      await writeFile(join(dir, 'inner', 'inside.js'), `export const name = "linked_inside"\n${ok}`)
      await symlink(join(dir, 'inner', 'inside.js'), join(dir, 'link-in.js'))
      await mkdir(join(dir, 'folder.js'))
      await writeFile(join(dir, 'as-default.mjs'), `export default { name: "as_default", schema: { safeParse: (v) => ({ success: true, data: v }) }, process: (r) => [r] }\n`)

      const catalogue = await loadProcessorCatalogue(dir, { loadTimeoutMs: 1500 })
      assert.deepEqual([...catalogue.entries.keys()], ['synthetic', 'as_default', 'good', 'linked_inside'])
      const problems = catalogue.problems.join('\n')
      const expected: Array<[string, RegExp]> = [
        ['throws.js', /throws\.js cannot be loaded: no licence key/],
        ['number-name.js', /number-name\.js does not export name \(a string\)/],
        ['path-name.js', /path-name\.js exports name "\.\.\/\.\.\/etc", which is not 1 to 64 letters/],
        ['bad-schema.js', /bad-schema\.js does not export schema/],
        ['factory-throws.js', /factory-throws\.js schema\(z\) threw: wrong zod/],
        ['garbage.js', /garbage\.js does not export name/],
        ['hangs.js', /hangs\.js cannot be loaded: did not finish loading within 1500 ms/],
        ['zz-again.js', /zz-again\.js defines processor "good", which already exists/],
        ['link-out.js', /link-out\.js cannot be loaded: links to .*outside\.js, outside PARASCAN_PROCESSORS_DIR/],
        ['folder.js', /folder\.js cannot be loaded: is not a regular file/]
      ]
      for (const [file, pattern] of expected) assert.match(problems, pattern, file)
      assert.equal(catalogue.problems.length, expected.length, problems)
      assert.equal(catalogue.entries.get('good')?.processor.description, 'passes records through')
      assert.deepEqual(paramsJsonSchema(catalogue.entries.get('good')!.processor), { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: {}, additionalProperties: false })
      assert.equal(paramsJsonSchema(catalogue.entries.get('as_default')!.processor), null, 'a schema that is not zod 4 and no jsonSchema: unknown')
      const run = await scan({ source: { type: 'inline', records: [1, 2] }, pipeline: [{ processor: 'good' }, { processor: 'as_default' }] }, { dataDir: '.', processorsDir: dir })
      assert.deepEqual(run.results, [[1], [2]])
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })

  it('pass a map result to a processor as JSON, and a processor result to CEL', async () => {
    const run = await scan({
      source: { type: 'range', start: 1, end: 4 },
      pipeline: [{ map: '{"n": record, "secret": "s"}' }, { processor: 'redact_fields', params: { fields: ['secret'] } }, { filter: 'record.n >= 2.0' }]
    }, ctx)
    assert.deepEqual(run.results, [{ n: 2, secret: '***' }, { n: 3, secret: '***' }])
  })

  it('write a processor\'s BigInt as a JSON number, as a CEL int, or fail its record when JSON cannot hold it exactly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parascan-plugins-'))
    const pool = new WorkStealingPool({ config: { max_workers: 2 } })
    try {
      await writeFile(join(dir, 'big.mjs'), 'export const name = "big"\nexport const schema = { safeParse: (v) => ({ success: true, data: v }) }\n' +
        'export function process (r) { return r === 2 ? 2n ** 60n : r % 2 === 0 ? BigInt(r) : { n: BigInt(r), list: [1n] } }\n')
      const plan = await planScan(request({ source: { type: 'range', start: 0, end: 5 }, pipeline: [{ processor: 'big' }], ordered: true, on_error: 'skip' }), { dataDir: '.', processorsDir: dir })
      const results: unknown[] = []
      const summary = await pool.stream(plan.total, plan.task, { ordered: true, on_error: 'skip', onBatch: (batch) => { results.push(...JSON.parse(batch.json) as unknown[]) } })
      assert.deepEqual(results, [0, { n: 1, list: [1] }, { n: 3, list: [1] }, 4])
      assert.deepEqual(summary.errors.map((e) => e.offset), [2])
      assert.match(summary.errors[0].message, /integer 1152921504606846976 is outside the JSON safe range/)
    } finally {
      await pool.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('write a processor\'s objects of its own classes as JSON writes them, and fail the records whose JSON fails, is nothing or is too large', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parascan-plugins-'))
    const pool = new WorkStealingPool({ config: { max_workers: 2 } })
    try {
      await writeFile(join(dir, 'classy.mjs'), 'export const name = "classy"\nexport const schema = { safeParse: (v) => ({ success: true, data: v }) }\n' +
        'class Point { constructor (x, y) { this.x = x; this.y = y } }\n' +
        'class Holder { constructor (v) { this.v = v } }\n' +
        'export function process (r) {\n' +
        '  if (r === 0) return new Point(0, 1)\n' +
        '  if (r === 1) return { toJSON () { throw new Error("no JSON for 1") } }\n' +
        '  if (r === 2) return { inner: new Holder(5n) }\n' +
        '  if (r === 3) return new (class Nothing { toJSON () { return undefined } })()\n' +
        '  if (r === 4) return new Holder("x".repeat(5 * 1024 * 1024))\n' +
        '  return [new Point(r, r)]\n' +
        '}\n')
      const plan = await planScan(request({ source: { type: 'range', start: 0, end: 6 }, pipeline: [{ processor: 'classy' }], ordered: true, on_error: 'skip' }), { dataDir: '.', processorsDir: dir })
      const results: unknown[] = []
      const summary = await pool.stream(plan.total, plan.task, { ordered: true, on_error: 'skip', onBatch: (batch) => { results.push(...JSON.parse(batch.json) as unknown[]) } })
      assert.deepEqual(results, [{ x: 0, y: 1 }, [{ x: 5, y: 5 }]])
      assert.deepEqual(summary.errors.map((e) => e.offset), [1, 2, 3, 4])
      assert.match(summary.errors[0].message, /processor classy\): returned a value that JSON cannot write: no JSON for 1/)
      assert.match(summary.errors[1].message, /returned a value that JSON cannot write: .*BigInt/)
      assert.match(summary.errors[2].message, /returned a value whose JSON is nothing/)
      assert.equal(summary.errors[3].code, 'PARASCAN_VALUE_TOO_LARGE')
      assert.match(summary.errors[3].message, /PARASCAN_MAX_VALUE_BYTES/)
    } finally {
      await pool.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('fail the records of a processor that returns a promise (an async process), which no JSON writes, and leave no rejection unhandled', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parascan-plugins-'))
    try {
      await writeFile(join(dir, 'eventual.mjs'), 'export const name = "eventual"\nexport const schema = { safeParse: (v) => ({ success: true, data: v }) }\n' +
        'export async function process (r) { if (r === 2) throw new Error("late"); return { r } }\n')
      const pluginCtx = { dataDir: '.', processorsDir: dir }
      await assert.rejects(scan({ source: { type: 'inline', records: [1, 2] }, pipeline: [{ processor: 'eventual' }] }, pluginCtx),
        /record 0: pipeline\[0\] \(processor eventual\): returned a promise, which is not a JSON value \(process must return its result, not a promise\)/)
      const aggregated = await scan({ source: { type: 'inline', records: [1, 2] }, pipeline: [{ processor: 'eventual' }], aggregate: { metrics: { n: { op: 'count' } } } }, pluginCtx, { onError: 'skip' })
      assert.deepEqual(aggregated.aggregate, [{ group: null, n: 0 }])
      assert.equal(aggregated.errors.length, 2)
      await new Promise((resolve) => setImmediate(resolve))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('synthetic spends the asked CPU time and passes records through', async () => {
    const started = performance.now()
    const run = await scan({ source: { type: 'range', start: 0, end: 200 }, pipeline: [{ processor: 'synthetic', params: { cost_us: 100 } }] }, ctx)
    const elapsed = performance.now() - started
    assert.equal(run.results.length, 200)
    assert.ok(elapsed >= 20, `200 records at 100 µs took ${elapsed} ms`)
  })

  it('synthetic pareto costs have the asked mean, hotspots cost more, and costs depend only on the offset', () => {
    const pareto = syntheticParamsSchema.parse({ cost_us: 10, distribution: 'pareto', pareto_alpha: 3 })
    let sum = 0
    const n = 100_000
    for (let i = 0; i < n; i++) sum += syntheticCostUs(pareto, i)
    assert.ok(Math.abs(sum / n - 10) < 0.5, `mean ${sum / n}`)
    assert.equal(syntheticCostUs(pareto, 123), syntheticCostUs(pareto, 123))
    const hot = syntheticParamsSchema.parse({ cost_us: 2, distribution: 'hotspot', hotspot_start: 10, hotspot_end: 20, hotspot_factor: 5 })
    assert.deepEqual([9, 10, 19, 20].map((i) => syntheticCostUs(hot, i)), [2, 10, 10, 2])
  })
})
