import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { dropPrefix, http, REDIS_URL, uniquePrefix } from '../helpers/service-harness.js'
import { finished, readAll, startInstance } from '../helpers/cluster-harness.js'

const children: ChildProcess[] = []
const prefixes: string[] = []

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  for (const prefix of prefixes) await dropPrefix(prefix)
})

for (const how of ['exit', 'sigkill'] as const) {
  test(`a partition that ends its instance (${how === 'exit' ? 'process.exit on the main thread' : 'SIGKILL from a worker thread'}) does not end the next one: it fails the scan with PARASCAN_INSTANCE_CRASHED naming its records`, async () => {
    const prefix = uniquePrefix()
    prefixes.push(prefix)
    const env = { REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_PARTITION_RECORDS: '1000', PARASCAN_PROGRESS_INTERVAL: '100ms' }
    const first = await startInstance(env, children)
    const scan = (await http(first.url, 'POST', '/v1/scans', {
      source: { type: 'range', start: 0, end: 4000 },
      pipeline: [{ processor: 'end_process', params: { at: 2500, how } }],
      ...(how === 'exit' ? { parallel: { scheduler: 'sequential' } } : {})
    })).json
    assert.equal(typeof scan.id, 'string', JSON.stringify(scan))
    await first.exited
    const second = await startInstance(env, children)
    const doc = await finished(second.url, scan.id, 90_000)
    assert.equal(doc.status, 'failed')
    assert.equal(doc.error.code, 'PARASCAN_INSTANCE_CRASHED', JSON.stringify(doc.error))
    assert.match(doc.error.message, /partition 3\/4 \(records 2000 to 2999\)/)
    assert.match(doc.error.message, /PARASCAN_MAX_CRASHED_ATTEMPTS/)
    assert.equal(second.child.exitCode, null, 'the second instance is still running')
    assert.equal(second.child.signalCode, null)
    assert.equal((await http(second.url, 'GET', '/healthz')).status, 200)
    const next = (await http(second.url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 3000 }, ordered: true })).json
    assert.equal((await finished(second.url, next.id)).status, 'succeeded')
    assert.deepEqual(await readAll(second.url, next.id), Array.from({ length: 3000 }, (_, i) => i))
  })
}
