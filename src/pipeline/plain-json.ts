/**
 * A processor's value that holds objects of its own classes, as JSON gives it back (their toJSON
 * or own enumerable properties), so that its size is known and writing the chunk's results cannot
 * fail. A value that JSON cannot write fails the record.
 */
export function plainJson (value: unknown, label: string): unknown {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (error) {
    throw new Error(`${label}: returned a value that JSON cannot write: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
  if (text === undefined) throw new Error(`${label}: returned a value whose JSON is nothing (a toJSON that returns undefined?)`)
  return JSON.parse(text)
}
