import { test } from 'node:test'
import assert from 'node:assert/strict'
import { kill, stateDirHarness } from '../helpers/state-dir-harness.js'
import { http, waitFor } from '../helpers/service-harness.js'
import { finished, readAll, startInstance, type Instance } from '../helpers/cluster-harness.js'

const { children, stateDir } = stateDirHarness()

const slow = { processor: 'synthetic', params: { cost_us: 400 } }
const records = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

test('embedded with PARASCAN_STATE_DIR: SIGTERM hands a running scan back and it runs again after the restart; one killed mid-run fails with PARASCAN_INSTANCE_CRASHED (PARASCAN_MAX_CRASHED_ATTEMPTS=1), or runs again with 2', async () => {
  const dir = stateDir()
  const env = { PARASCAN_STATE_DIR: dir, PARASCAN_SHUTDOWN_GRACE: '0s', PARASCAN_PROGRESS_INTERVAL: '100ms' }
  const body = { source: { type: 'range', start: 0, end: 3000 }, pipeline: [slow], ordered: true }
  const running = async (instance: Instance, id: string): Promise<void> => {
    await waitFor(async () => {
      const doc = (await http(instance.url, 'GET', `/v1/scans/${id}`)).json
      return doc.status === 'running' && doc.progress.processed > 0 ? doc : undefined
    }, 60_000, 20)
  }

  const first = await startInstance(env, children)
  const handedBack = (await http(first.url, 'POST', '/v1/scans', body)).json
  const queued = (await http(first.url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 10 } })).json
  await running(first, handedBack.id)
  assert.equal(await kill(first, 'SIGTERM'), 0)
  const second = await startInstance(env, children)
  const resumed = await finished(second.url, handedBack.id, 120_000)
  assert.equal(resumed.status, 'succeeded', JSON.stringify(resumed.error))
  assert.deepEqual(await readAll(second.url, handedBack.id, 1000), records(3000))
  assert.equal((await finished(second.url, queued.id)).status, 'succeeded', 'a scan still queued runs after the restart')

  const crashing = (await http(second.url, 'POST', '/v1/scans', body)).json
  await running(second, crashing.id)
  await kill(second)
  const third = await startInstance(env, children)
  const crashed = await finished(third.url, crashing.id)
  assert.equal(crashed.status, 'failed')
  assert.equal(crashed.error.code, 'PARASCAN_INSTANCE_CRASHED')

  const retried = (await http(third.url, 'POST', '/v1/scans', body)).json
  await running(third, retried.id)
  await kill(third)
  const fourth = await startInstance({ ...env, PARASCAN_MAX_CRASHED_ATTEMPTS: '2' }, children)
  const done = await finished(fourth.url, retried.id, 120_000)
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error))
  assert.deepEqual(await readAll(fourth.url, retried.id, 1000), records(3000))
  assert.equal(await kill(fourth, 'SIGTERM'), 0)
})
