const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** Parses `500ms`, `30s`, `15m`, `24h`, `7d`, or a bare number of seconds, into milliseconds. */
export function parseDuration (text: string): number | undefined {
  // One run of spaces between number and unit, after a trim: linear in the text, which may come from a client.
  const match = /^(\d+(?:\.\d+)?) *(ms|s|m|h|d)?$/.exec(text.trim())
  if (match === null) return undefined
  return Math.round(Number(match[1]) * UNITS[match[2] ?? 's'])
}
