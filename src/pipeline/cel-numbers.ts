import type { Environment } from '@marcbachmann/cel-js'

type Operator = '+' | '-' | '*' | '/' | '%'

function moduloByZero (): never {
  throw new Error('modulo by zero')
}

const apply: Record<Operator, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '%': (a, b) => b === 0 ? moduloByZero() : a % b
}

/**
 * JSON has one kind of number and CEL two: JSON numbers are doubles, int literals and a range's
 * records are ints. These overloads let them mix as in JavaScript: `+ - * /` between an int and a
 * double give a double, and `%` also works on doubles (the remainder of truncated division, whose
 * sign is the dividend's, as CEL's int `%`). Two ints keep CEL's int arithmetic.
 */
export function registerMixedNumbers (env: Environment): Environment {
  for (const op of Object.keys(apply) as Operator[]) {
    const fn = apply[op]
    env.registerOperator(`int ${op} double: double`, (a: bigint, b: number) => fn(Number(a), b))
    env.registerOperator(`double ${op} int: double`, (a: number, b: bigint) => fn(a, Number(b)))
  }
  env.registerOperator('double % double: double', apply['%'])
  return env
}
