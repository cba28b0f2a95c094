import assert from 'node:assert/strict'
import { rm, truncate, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { TaskModule } from '../../src/parallel/types.js'
import { planScan } from '../../src/pipeline/index.js'
import type { ScanParams } from '../../src/pipeline/scan-params.js'
import { recordIndexCache } from '../../src/sources/record-index-cache.js'
import { makeDataDir, request, type DataDir } from '../helpers/scan-task-harness.js'

const lines = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ i })).join('\n') + '\n'

describe('source files that change', () => {
  let data: DataDir
  before(async () => { data = await makeDataDir() })
  after(async () => { await data.remove() })

  async function plan (path: string) {
    const planned = await planScan(request({ source: { type: 'file', path, format: 'ndjson' } }), data.ctx)
    const task = await import(String(planned.task.module)) as TaskModule<unknown, ScanParams>
    return { planned, task, params: planned.task.params as ScanParams }
  }

  it('reuses the record index of an unchanged file and rebuilds it when the file changes', async () => {
    await data.write('cached.ndjson', lines(10))
    const first = await plan('cached.ndjson')
    const second = await plan('cached.ndjson')
    assert.equal(first.params.source.type === 'file' && first.params.source.offsets, second.params.source.type === 'file' && second.params.source.offsets)
    await writeFile(join(data.dir, 'cached.ndjson'), lines(12))
    await utimes(join(data.dir, 'cached.ndjson'), new Date(), new Date(Date.now() + 5000))
    const third = await plan('cached.ndjson')
    assert.equal(third.planned.total, 12)
    assert.ok(recordIndexCache.size >= 1)
  })

  it('fails at init, naming the file, when it disappeared after planning', async () => {
    await data.write('gone.ndjson', lines(5))
    const { task, params } = await plan('gone.ndjson')
    await rm(join(data.dir, 'gone.ndjson'))
    await assert.rejects(async () => task.init?.(params), /source file gone\.ndjson cannot be opened: ENOENT/)
  })

  it('fails at init when it changed after planning', async () => {
    await data.write('changed.ndjson', lines(5))
    const { task, params } = await plan('changed.ndjson')
    await writeFile(join(data.dir, 'changed.ndjson'), lines(3))
    await assert.rejects(async () => task.init?.(params), /source file changed\.ndjson changed after the scan was planned/)
  })

  it('fails a read, naming the file, when it is truncated while it is scanned', async () => {
    await data.write('shrinks.ndjson', lines(100))
    const { task, params } = await plan('shrinks.ndjson')
    await task.init?.(params)
    try {
      assert.equal((await task.fetch(0, 10, params)).length, 10)
      await truncate(join(data.dir, 'shrinks.ndjson'), 50)
      assert.throws(() => task.fetch(50, 10, params), /source file shrinks\.ndjson was truncated while it was scanned/)
    } finally {
      await task.teardown?.(params)
    }
  })
})
