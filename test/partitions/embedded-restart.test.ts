import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { kill, stateDirHarness } from '../helpers/state-dir-harness.js'
import { http, waitFor } from '../helpers/service-harness.js'
import { finished, readAll, startInstance } from '../helpers/cluster-harness.js'

const { children, stateDir } = stateDirHarness()

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

// Slow records that cost no CPU: the scan takes as long on a busy machine as on a quiet one.
const slow = { processor: 'sleep', params: { ms: 0.5 } }
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
