import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RunningServer } from '../../src/server.js'
import { http, realServer, REDIS_URL, uniquePrefix, dropPrefix, tempDataDir } from '../helpers/service-harness.js'
import { finished, readAll } from '../helpers/cluster-harness.js'

const servers: RunningServer[] = []
const prefixes: string[] = []
after(async () => {
  await Promise.allSettled(servers.map(async (server) => await server.close()))
  for (const p of prefixes) await dropPrefix(p)
})

for (const mode of ['embedded', 'redis'] as const) {
  test(`${mode}: bad NDJSON lines in later partitions name their offsets in the source (fail, skip + ordered + max_results); a limit's code fails a partitioned scan as it fails a one-job scan`, async () => {
    const dir = tempDataDir()
    const lines = Array.from({ length: 4000 }, (_, i) => JSON.stringify({ n: i }))
    lines[2750] = '{"n": broken'
    lines[3333] = 'nope'
    writeFileSync(join(dir, 'data.ndjson'), lines.join('\n') + '\n')
    const prefix = uniquePrefix()
    prefixes.push(prefix)
    const env: Record<string, string> = { DATA_DIR: dir, PARASCAN_PARTITION_RECORDS: '500' }
    if (mode === 'redis') Object.assign(env, { REDIS_URL, PARASCAN_KEY_PREFIX: prefix })
    const server = await realServer(env)
    servers.push(server)
    const base = server.url
    const source = { type: 'file', path: 'data.ndjson', format: 'ndjson' }

    const failing = (await http(base, 'POST', '/v1/scans', { source, pipeline: [{ map: 'record.n' }] })).json
    const doc = await finished(base, failing.id)
    assert.equal(doc.status, 'failed', JSON.stringify(doc))
    assert.equal(doc.partitions?.total, 8)
    assert.equal(doc.error.offset, 2750, JSON.stringify(doc.error))
    assert.match(doc.error.message, /2750/)
    assert.doesNotMatch(doc.error.message, /\b250\b/)

    const skipping = (await http(base, 'POST', '/v1/scans', { source, pipeline: [{ map: 'record.n' }], on_error: 'skip', ordered: true, max_results: 3500 })).json
    const skipped = await finished(base, skipping.id)
    assert.equal(skipped.status, 'succeeded', JSON.stringify(skipped))
    assert.deepEqual(skipped.errors.map((e: any) => e.offset), [2750, 3333], JSON.stringify(skipped.errors))
    for (const e of skipped.errors) assert.doesNotMatch(e.message, /offset (250|333)\b/, e.message)
    assert.equal(skipped.result.count, 3500)
    assert.equal(skipped.result.truncated, true)
    const want = Array.from({ length: 4000 }, (_, i) => i).filter((i) => i !== 2750 && i !== 3333).slice(0, 3500)
    assert.deepEqual(await readAll(base, skipping.id, 999), want)

    const doubling = (await http(base, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 4 }, partitions: 4, pipeline: [{ map: '[record]' }, ...Array.from({ length: 31 }, () => ({ map: 'record + record' }))] })).json
    const grown = await finished(base, doubling.id, 60_000)
    assert.equal(grown.status, 'failed', JSON.stringify(grown))
    assert.equal(grown.error.code, 'PARASCAN_VALUE_TOO_LARGE')
    assert.equal((await http(base, 'GET', '/healthz')).status, 200)
    const next = await finished(base, (await http(base, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 1000 }, partitions: 3 })).json.id)
    assert.equal(next.status, 'succeeded')
    assert.equal(next.result.count, 1000)
  })
}
