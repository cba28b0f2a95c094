import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { stateDirHarness } from '../helpers/state-dir-harness.js'
import { http, waitFor } from '../helpers/service-harness.js'
import { finished, readAll, startInstance, type Instance } from '../helpers/cluster-harness.js'

const { children, stateDir } = stateDirHarness()

async function kill (instance: Instance, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
  instance.child.kill(signal)
  return await instance.exited
}

/** Attempts begun, state and current attempt of each partition, as the scan's journal says (its last line for each). */
function journalParts (dir: string, id: string): Array<{ runs: number, state: string, attempt?: string }> {
  const parts: Array<{ runs: number, state: string, attempt?: string }> = []
  for (const line of readFileSync(join(dir, 'scans', `${id}.jsonl`), 'utf8').split('\n').filter((text) => text !== '')) {
    const change = JSON.parse(line)
    const all = change.t === 'scan' ? change.scan.partitions?.parts : change.t === 'partitions' ? change.partitions.parts : change.t === 'part' ? [change.part] : []
    for (const part of all ?? []) parts[part.index] = { runs: part.runs, state: part.state, attempt: part.attempt }
  }
  return parts
}

const slow = { processor: 'synthetic', params: { cost_us: 1000 } }
const records = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

test('embedded with PARASCAN_STATE_DIR: killed mid-scan and started again on the same directory, partitioned scans re-run only their uncommitted partitions and end exact', async () => {
  const dir = stateDir()
  const env = { PARASCAN_STATE_DIR: dir, PARASCAN_PARTITION_RECORDS: '500', PARASCAN_PROGRESS_INTERVAL: '100ms' }
  const first = await startInstance(env, children)
  const small = (await http(first.url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 300 }, pipeline: [{ map: 'record * 3' }], ordered: true })).json
  assert.equal((await finished(first.url, small.id)).status, 'succeeded')
  const source = { type: 'range', start: 0, end: 8000 }
  const unordered = (await http(first.url, 'POST', '/v1/scans', { source, pipeline: [slow] })).json
  const orderedBody = { source, pipeline: [slow, { filter: 'record % 3 != 1' }], ordered: true }
  const ordered = await http(first.url, 'POST', '/v1/scans', orderedBody, { 'idempotency-key': 'restart-ordered' })
  assert.equal(ordered.status, 202)
  await waitFor(async () => {
    const doc = (await http(first.url, 'GET', `/v1/scans/${unordered.id}`)).json
    return doc.partitions?.succeeded >= 3 ? doc : undefined
  }, 60_000, 20)
  assert.equal(await kill(first), null)

  const before = journalParts(dir, unordered.id)
  const committed = before.flatMap((part, index) => part.state === 'committed' ? [index] : [])
  assert.ok(committed.length >= 3 && committed.length < 16, `committed before the kill: ${committed.join(', ')}`)

  const second = await startInstance(env, children)
  assert.deepEqual(await readAll(second.url, small.id), records(300).map((i) => i * 3), 'a finished scan is readable after the restart')
  const again = await http(second.url, 'POST', '/v1/scans', orderedBody, { 'idempotency-key': 'restart-ordered' })
  assert.equal(again.json.id, ordered.json.id, 'the Idempotency-Key still names the first scan')

  const doc = await finished(second.url, unordered.id, 120_000)
  assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
  assert.equal(doc.progress.processed, 8000)
  assert.deepEqual(doc.result, { count: 8000, truncated: false, partial: false })
  const after = journalParts(dir, unordered.id)
  for (const index of committed) {
    assert.equal(after[index].runs, 1, `committed partition ${index} ran again`)
    assert.equal(after[index].attempt, before[index].attempt, `partition ${index} kept the results it committed before the kill`)
  }
  const pages = readdirSync(join(dir, 'scans')).filter((file) => file.startsWith(`${unordered.id}.p`))
  assert.equal(pages.length, 16, `one page file per partition: ${pages.join(', ')}`)
  const rerun = after.flatMap((part, index) => part.runs > 1 ? [index] : [])
  assert.ok(rerun.length <= 1, `re-run: ${rerun.join(', ')}`)
  assert.deepEqual(doc.partitions, { total: 16, queued: 0, running: 0, succeeded: 16, rerun: rerun.length })
  const items = await readAll(second.url, unordered.id, 1000) as number[]
  assert.deepEqual([...items].sort((a, b) => a - b), records(8000))

  const orderedDoc = await finished(second.url, ordered.json.id, 120_000)
  assert.equal(orderedDoc.status, 'succeeded', JSON.stringify(orderedDoc.error))
  assert.deepEqual(await readAll(second.url, ordered.json.id, 999), records(8000).filter((i) => i % 3 !== 1))
  assert.equal(await kill(second, 'SIGTERM'), 0)
})

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

test('embedded with PARASCAN_STATE_DIR: killed or stopped over and over while a capped unordered scan runs on two threads, it still ends with exactly max_results distinct results', async () => {
  const dir = stateDir()
  const env = { PARASCAN_STATE_DIR: dir, PARASCAN_PARTITION_RECORDS: '300', PARASCAN_PROGRESS_INTERVAL: '100ms', PARASCAN_CONCURRENCY: '2', PROTO_PARALLEL_MAX_WORKERS: '2' }
  let instance = await startInstance(env, children)
  const scan = (await http(instance.url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 6000 }, pipeline: [{ processor: 'synthetic', params: { cost_us: 400 } }], max_results: 4000 })).json
  for (let cycle = 0; cycle < 5; cycle++) {
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
