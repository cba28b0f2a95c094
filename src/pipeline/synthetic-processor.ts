import { z } from 'zod'
import type { Processor } from './processor.js'
import { processSynthetic, type SyntheticParams } from './synthetic-cost.js'

export { syntheticCostUs, type SyntheticParams } from './synthetic-cost.js'

export const syntheticParamsSchema: z.ZodType<SyntheticParams, Record<string, unknown> | undefined> = z.object({
  cost_us: z.number().min(0).max(1_000_000).default(10)
    .describe('Mean CPU time per record, in microseconds.'),
  distribution: z.enum(['uniform', 'pareto', 'hotspot']).default('uniform')
    .describe('uniform: every record costs cost_us; pareto: heavy-tailed costs with mean cost_us; hotspot: records in [hotspot_start, hotspot_end) cost hotspot_factor times more.'),
  pareto_alpha: z.number().gt(1).max(10).default(1.5).describe('Shape of the pareto distribution.'),
  max_factor: z.number().min(1).max(100_000).default(1000).describe('Cap of one record\'s cost, as a multiple of cost_us.'),
  hotspot_start: z.number().int().min(0).default(0).describe('First record offset of the hotspot.'),
  hotspot_end: z.number().int().min(0).default(10_000).describe('End (exclusive) of the hotspot.'),
  hotspot_factor: z.number().min(1).max(100_000).default(10).describe('Cost multiple inside the hotspot.'),
  seed: z.number().int().default(1).describe('Seed of the pareto costs; the cost of a record depends only on it and the offset.')
}).strict()

/** Spends a chosen CPU time on each record and passes it through: for demos and benchmarks. */
export const syntheticProcessor: Processor<SyntheticParams> = {
  name: 'synthetic',
  description: 'Spends a chosen CPU time on each record and passes it through: for demos and benchmarks.',
  schema: syntheticParamsSchema,
  process: processSynthetic
}
