const NDJSON_TYPES = new Set(['application/x-ndjson', 'application/ndjson'])
const JSON_TYPES = new Set(['application/json', 'application/*', '*/*'])

/**
 * True when an Accept header ranks NDJSON (`application/x-ndjson` or `application/ndjson`) above
 * JSON: its q is higher than that of `application/json`, `application/*` and `*\/*`.
 */
export function prefersNdjson (accept: string | undefined): boolean {
  if (accept === undefined) return false
  let ndjson = 0
  let json = 0
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';').map((part) => part.trim().toLowerCase())
    const q = params.find((param) => param.startsWith('q='))
    const weight = q === undefined ? 1 : Number(q.slice(2))
    if (!Number.isFinite(weight)) continue
    if (NDJSON_TYPES.has(type)) ndjson = Math.max(ndjson, weight)
    else if (JSON_TYPES.has(type)) json = Math.max(json, weight)
  }
  return ndjson > 0 && ndjson > json
}
