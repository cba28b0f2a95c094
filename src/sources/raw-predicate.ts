/** The comparison operators of a `compare` atom. */
export type CompareOp = '<' | '<=' | '>' | '>=' | '==' | '!='

/**
 * What the leading filters of a pipeline imply about a record, in terms that raw bytes can be
 * tested for: a record that the filters keep satisfies the predicate. `equals` is
 * `record[field] == value`, `contains` is `record[field].contains(value)` (both strings),
 * `compare` is `record[field] <op> value` with a number there, `all` and `any` are conjunction
 * and disjunction.
 */
export type RawPredicate =
  | { kind: 'equals', field: string, value: string }
  | { kind: 'contains', field: string, value: string }
  | { kind: 'compare', field: string, op: CompareOp, value: number }
  | { kind: 'all', parts: RawPredicate[] }
  | { kind: 'any', parts: RawPredicate[] }
