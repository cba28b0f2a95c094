import { Environment } from '@marcbachmann/cel-js'

/** Structural limits of every expression, checked when it is compiled. */
export const celLimits = {
  maxAstNodes: 2000,
  maxDepth: 64,
  maxListElements: 1000,
  maxMapEntries: 1000,
  maxCallArguments: 32
}

/** The one CEL environment of parascan: a single variable `record` of dynamic type. */
export const celEnvironment = new Environment({
  homogeneousAggregateLiterals: false,
  limits: celLimits
}).registerVariable('record', 'dyn', { description: 'The current record.' })
