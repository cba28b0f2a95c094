import fc from 'fast-check'

// Random CEL filters of the fast subset and beyond, records to run them on, and what running one gives.

export type Outcome = { value: unknown } | { error: true }

export function outcome (run: () => unknown): Outcome {
  try {
    return { value: run() }
  } catch {
    return { error: true }
  }
}

const atom = fc.constantFrom(
  'record.a', 'record.b', 'record["c"]', 'record.missing',
  '"x"', '"y"', '""', '1.5', '2.0', '0.0', '-1.0', '1', '2', '0', '-3', '9007199254740993', 'true', 'false', 'null',
  'record', '(record % 64)', '(record % 3)', '(record % -2)', '(record % 0)', '(record % -1)', '(record.a % 2)', '(record.b + 1)', '(record.c - 0.5)', '(record.a / 2)', '(record.b * 2.0)', '(1 + 0.5)'
)
const comparison = fc.tuple(atom, fc.constantFrom('==', '!=', '<', '<=', '>', '>='), atom).map(([a, op, b]) => `${a} ${op} ${b}`)
export const expression = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    comparison,
    atom,
    fc.tuple(tie('expr'), fc.constantFrom('&&', '||'), tie('expr')).map(([a, op, b]) => `(${a}) ${op} (${b})`),
    tie('expr').map((a) => `!(${a})`)
  )
})).expr

const value = fc.oneof(fc.constantFrom('x', 'y', '', 1.5, 2, 0, -0, -1, 1, true, false, null, 2 ** 53), fc.double(), fc.string(), fc.array(fc.integer(), { maxLength: 2 }), fc.constant({ k: 1 }))
export const record = fc.oneof(
  fc.record({ a: value, b: value, c: value }, { requiredKeys: [] }),
  value,
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.bigInt({ min: -200n, max: 200n })
)
