import { Environment } from '@marcbachmann/cel-js'
import { RE2_MATCHES, re2Matches } from './re2-matches.js'

/** Structural limits of every expression, checked when it is compiled. */
export const celLimits = {
  maxAstNodes: 2000,
  maxDepth: 64,
  maxListElements: 1000,
  maxMapEntries: 1000,
  maxCallArguments: 32
}

/** The one CEL environment of parascan: a single variable `record` of dynamic type; `matches` runs on RE2. */
export const celEnvironment = new Environment({
  homogeneousAggregateLiterals: false,
  limits: celLimits
}).registerVariable('record', 'dyn', { description: 'The current record.' })
  .registerFunction(`string.${RE2_MATCHES}(string): bool`, re2Matches, { description: 'matches, on RE2 (linear time).' })
