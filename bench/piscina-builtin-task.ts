import type { TaskModule } from '../src/parallel/types.js'
import { loopRange } from './builtin-loop.js'

/** One Piscina task: the built-in pipeline benchmark's plain loop over a fixed range, results as JSON text (as the engine posts them). */
export default async function loopBuiltinRange ({ module, params, lo, hi }: { module: string, params: unknown, lo: number, hi: number }): Promise<string> {
  const task = await import(module) as TaskModule
  const out: unknown[] = []
  loopRange(task, params, lo, hi, out)
  return JSON.stringify(out)
}
