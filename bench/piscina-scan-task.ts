import { fetch, process, type EngineTaskParams } from '../test/fixtures/engine-task.js'

/** One Piscina task: a fixed range of the engine benchmark's records, results returned by structured clone. */
export default function scanRange ({ offset, count, params }: { offset: number, count: number, params: EngineTaskParams }): { results: unknown[], ms: number } {
  const start = performance.now()
  const records = fetch(offset, count, params) as number[]
  const results: unknown[] = []
  for (let i = 0; i < count; i++) {
    const value = process(records[i], params, offset + i)
    if (value !== null && value !== undefined) results.push(value)
  }
  return { results, ms: performance.now() - start }
}
