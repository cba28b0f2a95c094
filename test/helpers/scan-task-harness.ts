import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { scanRequestSchema, type ScanRequest } from '../../schemas/scan-request.js'
import type { TaskModule } from '../../src/parallel/types.js'
import { planScan, type ScanContext, type ScanPlan } from '../../src/pipeline/index.js'
import type { ScanParams } from '../../src/pipeline/scan-params.js'

export interface DataDir {
  dir: string
  ctx: ScanContext
  write(name: string, content: string | Buffer): Promise<string>
  remove(): Promise<void>
}

export async function makeDataDir (processorsDir?: string): Promise<DataDir> {
  const dir = await mkdtemp(join(tmpdir(), 'parascan-data-'))
  return {
    dir,
    ctx: processorsDir === undefined ? { dataDir: dir } : { dataDir: dir, processorsDir },
    async write (name, content) {
      await writeFile(join(dir, name), content)
      return name
    },
    remove: () => rm(dir, { recursive: true, force: true })
  }
}

/** A request as the service would hand it over: parsed by the request schema (defaults filled). */
export function request (body: unknown): ScanRequest {
  return scanRequestSchema.parse(body)
}

export interface TaskRun {
  results: unknown[]
  errors: Array<{ offset: number, message: string }>
  aggregate?: unknown[]
}

/**
 * Runs a planned scan's task module in this thread, the way one worker would: init, fetch in
 * chunks of `chunk` records, process each, teardown. With `onError: 'fail'` the first record
 * error is thrown with its offset. Aggregates go through create/add and a merge per chunk.
 */
export async function runPlan (plan: ScanPlan, options: { chunk?: number, onError?: 'fail' | 'skip' } = {}): Promise<TaskRun> {
  const task = await import(String(plan.task.module)) as TaskModule<unknown, ScanParams>
  const params = plan.task.params as ScanParams
  const chunk = options.chunk ?? 7
  const run: TaskRun = { results: [], errors: [] }
  await task.init?.(params)
  let state = task.aggregate?.create(params)
  try {
    for (let offset = 0; offset < plan.total; offset += chunk) {
      const count = Math.min(chunk, plan.total - offset)
      const records = await task.fetch(offset, count, params)
      if (records.length !== count) throw new Error(`fetch returned ${records.length} of ${count} records`)
      let partial = task.aggregate?.create(params)
      for (let i = 0; i < count; i++) {
        try {
          const result = task.process(records[i], params, offset + i)
          if (result === null || result === undefined) continue
          if (task.aggregate !== undefined) partial = task.aggregate.add(partial, result, params)
          else run.results.push(result)
        } catch (error) {
          if (options.onError !== 'skip') throw new Error(`record ${offset + i}: ${(error as Error).message}`)
          run.errors.push({ offset: offset + i, message: (error as Error).message })
        }
      }
      if (task.aggregate !== undefined) state = task.aggregate.merge(state, JSON.parse(JSON.stringify(partial)), params)
    }
  } finally {
    await task.teardown?.(params)
  }
  if (task.aggregate !== undefined) run.aggregate = task.aggregate.finish(state, params)
  return run
}

export async function scan (body: unknown, ctx: ScanContext, options?: { chunk?: number, onError?: 'fail' | 'skip' }): Promise<TaskRun> {
  return runPlan(await planScan(request(body), ctx), options)
}
