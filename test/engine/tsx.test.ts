import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const root = fileURLToPath(new URL('../../../', import.meta.url))

test('the engine runs from its .ts sources under tsx, worker threads included', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parascan-tsx-'))
  try {
    const script = join(dir, 'scan.mts')
    writeFileSync(script, `
      import { WorkStealingPool } from ${JSON.stringify(join(root, 'src/index.ts'))}
      const pool = new WorkStealingPool({ config: { max_workers: 2, scheduler: 'work_stealing' } })
      const results = await pool.scan(100000, { module: ${JSON.stringify(join(root, 'test/fixtures/engine-task.ts'))}, params: { keepEvery: 1000 } }, { ordered: true })
      await pool.close()
      console.log(JSON.stringify(results))
    `)
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], { cwd: root, timeout: 30_000 })
    assert.deepEqual(JSON.parse(stdout), Array.from({ length: 100 }, (_, i) => i * 2000))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
