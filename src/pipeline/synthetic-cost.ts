/** Parameters of the synthetic processor, as its schema parses them. */
export interface SyntheticParams {
  cost_us: number
  distribution: 'uniform' | 'pareto' | 'hotspot'
  pareto_alpha: number
  max_factor: number
  hotspot_start: number
  hotspot_end: number
  hotspot_factor: number
  seed: number
}

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

/** Spends the record's CPU cost and passes it through. */
export function processSynthetic (record: unknown, params: SyntheticParams, offset: number): unknown {
  spin(syntheticCostUs(params, offset))
  return record
}
