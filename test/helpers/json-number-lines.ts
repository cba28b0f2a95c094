import fc from 'fast-check'

/** Numbers as JSON may spell them: signs, exponents, many digits, beyond a double's range, -0. */
export const numberText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom('', '-'), fc.stringMatching(/^(0|[1-9][0-9]{0,24})$/), fc.option(fc.stringMatching(/^\.[0-9]{1,25}$/)), fc.option(fc.stringMatching(/^[eE][+-]?[0-9]{1,3}$/))).map(([sign, int, fraction, exponent]) => sign + int + (fraction ?? '') + (exponent ?? '')) },
  { weight: 2, arbitrary: fc.constantFrom('0', '-0', '-0.0', '0e0', '-0E-5', '400', '400.0', '4e2', '4E+2', '40000e-2', '400.00000000000006', '399.99999999999994', '400.0000000000000000001', '1e400', '-1e400', '1e-400', '5e-324', '2.2250738585072014e-308', '1.7976931348623157e308', '9007199254740993', '123456789012345678', '0.1000000000000000055511151231257827', '123.45', '-123.45') },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)) }
)

/** White space between tokens, as JSON allows it on one line. */
const space = fc.constantFrom('', '', '', ' ', '\t', '\r', ' \r\t ')
/** Text of strings without a backslash, with the bytes of JSON syntax and of the key. */
const plain = fc.array(fc.constantFrom('n', 'amount', ':', ',', '{', '}', '[', ']', ' ', 'a', '1', 'é', '-', '😀'), { maxLength: 5 }).map((parts) => parts.join(''))

export interface LineStyle {
  /** Keys of the target name written with an escape (`"\u006e"`), as another writer may. */
  escapeKeys: boolean
}

function key (name: string, style: LineStyle): string {
  return style.escapeKeys && name === 'n' ? '"\\u006e"' : JSON.stringify(name)
}

/**
 * Objects on one line, members written by hand (so a key may repeat, and then the last counts),
 * with the key `n` at the top, nested in objects and arrays, inside strings, and with values of
 * every type.
 */
export function objectText (style: LineStyle = { escapeKeys: false }): fc.Arbitrary<string> {
  const keys = fc.constantFrom('n', 'n', 'n', 'nn', 'N', '', 'x', 'n:', 'é', 'amount')
  const { value } = fc.letrec<{ value: string, object: string }>((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true },
      { weight: 4, arbitrary: numberText },
      { weight: 2, arbitrary: plain.map((s) => JSON.stringify(s)) },
      { weight: 1, arbitrary: fc.constantFrom('true', 'false', 'null') },
      { weight: 1, arbitrary: tie('object') },
      { weight: 1, arbitrary: fc.tuple(space, fc.array(fc.tuple(tie('value'), space), { maxLength: 3 })).map(([s, items]) => `[${s}${items.map(([v, t]) => v + t).join(',' + s)}]`) }
    ),
    object: fc.tuple(space, fc.array(fc.tuple(keys, space, space, tie('value'), space), { maxLength: 5 })).map(([s, members]) =>
      `{${s}${members.map(([k, a, b, v, c]) => `${key(k, style)}${a}:${b}${v}${c}`).join(',' + s)}}`)
  }))
  return fc.tuple(space, fc.array(fc.tuple(keys, space, space, value, space), { maxLength: 6 }), fc.option(fc.tuple(space, numberText))).map(([s, members, last]) => {
    const all = members.map(([k, a, b, v, c]) => `${key(k, style)}${a}:${b}${v}${c}`)
    if (last !== null) all.push(`${key('n', style)}${last[0]}:${last[0]}${last[1]}${last[0]}`)
    return `{${s}${all.join(',' + s)}}`
  })
}
