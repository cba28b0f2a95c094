import { test } from 'node:test'
import assert from 'node:assert/strict'
import { kill, stateDirHarness } from '../helpers/state-dir-harness.js'
import { http } from '../helpers/service-harness.js'
import { finished, readAll, startInstance } from '../helpers/cluster-harness.js'

const { children, stateDir } = stateDirHarness()

test('embedded with PARASCAN_STATE_DIR: killed or stopped four times while a capped unordered scan runs on two threads, it still ends with exactly max_results distinct results', async () => {
  const dir = stateDir()
  const env = { PARASCAN_STATE_DIR: dir, PARASCAN_PARTITION_RECORDS: '300', PARASCAN_PROGRESS_INTERVAL: '100ms', PARASCAN_CONCURRENCY: '2', PROTO_PARALLEL_MAX_WORKERS: '2' }
  let instance = await startInstance(env, children)
  const scan = (await http(instance.url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 6000 }, pipeline: [{ processor: 'sleep', params: { ms: 2 } }], max_results: 4000 })).json
  for (let cycle = 0; cycle < 4; cycle++) {
    await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 1000))
    const doc = (await http(instance.url, 'GET', `/v1/scans/${scan.id}`)).json
    if (doc.status !== 'running') break
    await kill(instance, cycle % 2 === 0 ? 'SIGKILL' : 'SIGTERM')
    instance = await startInstance(env, children)
  }
  const doc = await finished(instance.url, scan.id, 120_000)
  assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
  assert.deepEqual(doc.result, { count: 4000, truncated: true, partial: false })
  const items = await readAll(instance.url, scan.id, 1500) as number[]
  assert.equal(items.length, 4000)
  assert.equal(new Set(items).size, 4000)
  assert.ok(items.every((item) => Number.isInteger(item) && item >= 0 && item < 6000))
  assert.equal(await kill(instance, 'SIGTERM'), 0)
})
