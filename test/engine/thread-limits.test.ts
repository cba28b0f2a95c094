import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { WorkStealingPool } from '../../src/index.js'
import { withoutRefusedFlags, workerExecArgv } from '../../src/parallel/pool-threads.js'

const module = new URL('../fixtures/engine-task.js', import.meta.url)
const pools: WorkStealingPool[] = []
after(async () => { await Promise.all(pools.map(async (pool) => await pool.close())) })

function newPool (options: ConstructorParameters<typeof WorkStealingPool>[0] = {}): WorkStealingPool {
  const pool = new WorkStealingPool({ config: { max_workers: 2, min_chunk_size: 10, initial_chunk_size: 10, max_chunk_size: 10 }, ...options })
  pools.push(pool)
  return pool
}

test('a thread that runs out of memory fails its scan with a code naming the limit, once; the pool replaces it and serves the next scan', async () => {
  const pool = newPool({ max_old_generation_mb: 32 })
  await assert.rejects(pool.scan(1_000, { module, params: { allocateAt: 300 } }), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'PARASCAN_WORKER_OUT_OF_MEMORY')
    assert.match(error.message, /max_old_generation_mb = 32 in the record at offset 300/)
    return true
  })
  assert.equal((await pool.scan(1_000, { module })).length, 1_000)
})

test('max_old_generation_mb is checked', () => {
  assert.throws(() => new WorkStealingPool({ max_old_generation_mb: 1 }), { code: 'PARASCAN_INVALID_OPTION', message: /max_old_generation_mb/ })
})

for (const scheduler of ['work_stealing', 'thread_pool'] as const) {
  test(`${scheduler}: a record stuck past record_time_limit_ms fails the scan naming the limit and the offset`, async () => {
    const pool = newPool()
    const began = performance.now()
    await assert.rejects(pool.scan(2_000, { module, params: { hangAt: 1_234 } }, { config: { scheduler }, record_time_limit_ms: 300 }), (error: Error & { code?: string, offset?: number }) => {
      assert.equal(error.code, 'PARASCAN_RECORD_TIME_LIMIT')
      assert.equal(error.offset, 1_234)
      assert.match(error.message, /offset 1234 ran longer than record_time_limit_ms = 300/)
      return true
    })
    assert.ok(performance.now() - began < 5_000)
    assert.equal((await pool.scan(100, { module }, { config: { scheduler } })).length, 100)
  })

  for (const ordered of [false, true]) {
    test(`${scheduler}${ordered ? ', ordered' : ''}: with on_error skip a stuck record is skipped and the rest of its thread's uncommitted records run exactly once`, async () => {
      const pool = newPool()
      const total = 3_000
      const items: number[] = []
      const summary = await pool.stream(total, { module, params: { hangAt: 1_234, blockAt: 2_500, blockMs: 100 } }, {
        config: { scheduler },
        ordered,
        on_error: 'skip',
        record_time_limit_ms: 400,
        onBatch: ({ json }) => { items.push(...JSON.parse(json) as number[]) }
      })
      assert.equal(summary.processed, total)
      assert.equal(summary.skipped, 1)
      assert.deepEqual(summary.errors.map(e => e.offset), [1_234])
      assert.match(summary.errors[0].message, /record_time_limit_ms = 400/)
      assert.equal(summary.errors[0].code, 'PARASCAN_RECORD_TIME_LIMIT')
      const expected = Array.from({ length: total }, (_, r) => r * 2).filter(v => v !== 2_468)
      assert.deepEqual(ordered ? items : items.sort((a, b) => a - b), expected)
    })
  }
}

test('threads start with only the flags that apply to workers', async () => {
  assert.deepEqual(workerExecArgv(['--input-type=module', '-e', 'code', '--enable-source-maps']), ['--enable-source-maps'])
  assert.deepEqual(workerExecArgv(['--input-type', 'module', '--eval', 'x', '--conditions=dev', '-p', 'y']), ['--conditions=dev'])
  const refused = new Error('Initiated Worker with invalid execArgv flags: --expose-gc, --max-old-space-size=100')
  assert.deepEqual(withoutRefusedFlags(['--expose-gc', '--enable-source-maps', '--max-old-space-size=100'], refused), ['--enable-source-maps'])
  assert.deepEqual(withoutRefusedFlags(['--enable-source-maps'], new Error('something else')), [])
  const index = new URL('../../src/index.js', import.meta.url).href
  const code = `import { parallelScan } from ${JSON.stringify(index)}
const results = await parallelScan(1000, { module: ${JSON.stringify(module.href)} }, { config: { max_workers: 2 } })
console.log(results.length, typeof globalThis.gc)`
  // V8 and process-wide flags of the main process are refused by worker threads: they start without them.
  const flags = ['--max-old-space-size=512', '--expose-gc', '--trace-gc', '--stack-size=900', '--enable-source-maps']
  const { stdout } = await promisify(execFile)(process.execPath, [...flags, '--input-type=module', '-e', code], { timeout: 30_000 })
  assert.match(stdout, /^1000 function$/m)
})

test('a refused flag whose value holds ", " or comes as the next argument is left out with its value; the flags workers need stay', async () => {
  const refused = (list: string): Error => new Error(`Initiated Worker with invalid execArgv flags: ${list}`)
  assert.deepEqual(withoutRefusedFlags(['--title=x, y', '--expose-gc', '--conditions=dev'], refused('--title=x, y, --expose-gc')), ['--conditions=dev'])
  assert.deepEqual(withoutRefusedFlags(['--title', 'a, b', '--expose-gc', '--import', 'tsx'], refused('--title')), ['--expose-gc', '--import', 'tsx'])
  assert.deepEqual(withoutRefusedFlags(['--conditions', 'y', '--title=x, y'], refused('--title=x, y')), ['--conditions', 'y'])
  const dir = mkdtempSync(join(tmpdir(), 'parascan-flags-'))
  // Imported by every thread that starts with the flag: worker threads leave a file behind.
  const preload = join(dir, 'preload.mjs')
  writeFileSync(preload, `import { isMainThread, threadId } from 'node:worker_threads'
import { writeFileSync } from 'node:fs'
if (!isMainThread) writeFileSync(new URL('./thread-' + threadId, import.meta.url), '')
`)
  const index = new URL('../../src/index.js', import.meta.url).href
  const code = `import { parallelScan } from ${JSON.stringify(index)}
const results = await parallelScan(1000, { module: ${JSON.stringify(module.href)} }, { config: { max_workers: 2 } })
console.log(results.length)`
  for (const title of [['--title', 'a, b'], ['--title=a, b']]) {
    const { stdout } = await promisify(execFile)(process.execPath, [...title, '--expose-gc', '--import', pathToFileURL(preload).href, '--input-type=module', '-e', code], { timeout: 30_000 })
    assert.match(stdout, /^1000$/m)
    const threads = readdirSync(dir).filter(name => name.startsWith('thread-'))
    assert.ok(threads.length > 0, `the worker threads of ${title.join(' ')} started without --import`)
    for (const name of threads) rmSync(join(dir, name))
  }
  rmSync(dir, { recursive: true })
})
