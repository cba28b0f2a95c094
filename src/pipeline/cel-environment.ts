import { Environment } from '@marcbachmann/cel-js'
import { registerMixedNumbers } from './cel-numbers.js'
import { RE2_MATCHES, re2Matches } from './re2-matches.js'

/** Structural limits of every expression, checked when it is compiled. */
export const celLimits = {
  maxAstNodes: 2000,
  maxDepth: 64,
  maxListElements: 1000,
  maxMapEntries: 1000,
  maxCallArguments: 32
}

/** The CEL types that a record can be declared as when it is checked at submit time. */
export type RecordCelType = 'dyn' | 'int' | 'double' | 'string' | 'bool' | 'map' | 'list'

function createEnvironment (recordType: RecordCelType): Environment {
  const env = registerMixedNumbers(new Environment({ homogeneousAggregateLiterals: false, limits: celLimits }))
  return env.registerVariable('record', recordType, { description: 'The current record.' })
    .registerFunction(`string.${RE2_MATCHES}(string): bool`, re2Matches, { description: 'matches, on RE2 (linear time).' })
}

/** The one CEL environment of parascan: a single variable `record` of dynamic type; `matches` runs on RE2. */
export const celEnvironment = createEnvironment('dyn')

const EQUALITY_TYPES = ['int', 'uint', 'double', 'string', 'bool', 'bytes', 'null', 'map', 'list']
const typedEnvironments = new Map<RecordCelType, Environment>([['dyn', celEnvironment]])

/**
 * An environment that only checks, with `record` declared as `type`. Equality between different
 * types type-checks in it (false at run time, as with `dyn`), so that it refuses no comparison that
 * the run-time environment accepts.
 */
export function typedCelEnvironment (type: RecordCelType): Environment {
  let env = typedEnvironments.get(type)
  if (env === undefined) {
    env = registerMixedNumbers(new Environment({ homogeneousAggregateLiterals: false, limits: celLimits }))
    for (const a of EQUALITY_TYPES) {
      for (const b of EQUALITY_TYPES) {
        if (a === b) continue
        try {
          env.registerOperator(`${a} == ${b}`, () => false)
        } catch {
          // registered already, as `b == a` or built in
        }
      }
    }
    env.registerVariable('record', type)
    typedEnvironments.set(type, env)
  }
  return env
}
