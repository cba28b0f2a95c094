import { z } from 'zod'
import type { Processor } from './processor.js'

export const syntheticParamsSchema = z.object({
  cost_us: z.number().min(0).max(1_000_000).default(10)
    .describe('Mean CPU time per record, in microseconds. Default: 10.'),
  distribution: z.enum(['uniform', 'pareto', 'hotspot']).default('uniform')
    .describe('uniform: every record costs cost_us; pareto: heavy-tailed costs with mean cost_us; hotspot: records in [hotspot_start, hotspot_end) cost hotspot_factor times more. Default: uniform.'),
  pareto_alpha: z.number().gt(1).max(10).default(1.5).describe('Shape of the pareto distribution. Default: 1.5.'),
  max_factor: z.number().min(1).max(100_000).default(1000).describe('Cap of one record\'s cost, as a multiple of cost_us. Default: 1000.'),
  hotspot_start: z.number().int().min(0).default(0).describe('First record offset of the hotspot. Default: 0.'),
  hotspot_end: z.number().int().min(0).default(10_000).describe('End (exclusive) of the hotspot. Default: 10000.'),
  hotspot_factor: z.number().min(1).max(100_000).default(10).describe('Cost multiple inside the hotspot. Default: 10.'),
  seed: z.number().int().default(1).describe('Seed of the pareto costs; the cost of a record depends only on it and the offset. Default: 1.')
}).strict()

export type SyntheticParams = z.infer<typeof syntheticParamsSchema>

/** A uniform number in [0, 1) from (seed, offset): the same record always costs the same. */
function unitHash (seed: number, offset: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(offset | 0, 0xc2b2ae35) ^ Math.floor(offset / 2 ** 32)
  h ^= h >>> 16
  h = Math.imul(h, 0x7feb352d)
  h ^= h >>> 15
  h = Math.imul(h, 0x846ca68b)
  h ^= h >>> 16
  return (h >>> 0) / 2 ** 32
}

export function syntheticCostUs (params: SyntheticParams, offset: number): number {
  switch (params.distribution) {
    case 'uniform':
      return params.cost_us
    case 'hotspot':
      return offset >= params.hotspot_start && offset < params.hotspot_end ? params.cost_us * params.hotspot_factor : params.cost_us
    case 'pareto': {
      const alpha = params.pareto_alpha
      const factor = (alpha - 1) / alpha * (1 - unitHash(params.seed, offset)) ** (-1 / alpha)
      return params.cost_us * Math.min(factor, params.max_factor)
    }
  }
}

function spin (microseconds: number): void {
  if (microseconds <= 0) return
  const until = performance.now() + microseconds / 1000
  while (performance.now() < until) { /* burn CPU */ }
}

/** Spends a chosen CPU time on each record and passes it through: for demos and benchmarks. */
export const syntheticProcessor: Processor<SyntheticParams> = {
  name: 'synthetic',
  schema: syntheticParamsSchema,
  process (record, params, offset) {
    spin(syntheticCostUs(params, offset))
    return record
  }
}
