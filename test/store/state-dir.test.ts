import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { openStateDir } from '../../src/store/open-state-dir.js'
import { FileResultPages } from '../../src/store/file-result-pages.js'
import { newScanId } from '../../src/store/scan-id.js'
import { outcome, record, request } from '../helpers/store-fixtures.js'

const dirs: string[] = []
after(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }) })

function temp (): string {
  const dir = mkdtempSync(join(tmpdir(), 'parascan-state-'))
  dirs.push(dir)
  return dir
}

const now = (): string => new Date().toISOString()
const layout = { partitions: 3, mode: 'unordered' as const, cap: 100, total: 30 }
const part = (count: number) => ({ processed: 10, matched: count, skipped: 0, count, truncated: false, errors: [], metrics: null })

/** A lock file that names a process that has exited: what a process killed with SIGKILL leaves. */
function deadOwnersLock (dir: string): void {
  const { pid } = spawnSync(process.execPath, ['-e', ''])
  writeFileSync(join(dir, 'lock'), JSON.stringify({ pid, host: JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')).host }) + '\n')
}

test('state directory: scans, results, partitions, idempotency keys and deletes outlive the store; what ran is queued again', async () => {
  const dir = temp()
  let store = await openStateDir({ dir, retentionMs: 60_000 })
  const done = record({ idempotency_key: 'key-done' })
  assert.equal(await store.claimIdempotencyKey('key-done', 'first value'), undefined)
  await store.create(done, request)
  await store.begin(done.id, 'a1', now())
  await store.appendPages(done.id, 'a1', ['[1,2]', '["ü\\n",3]', '[4]'])
  assert.equal(await store.finish(done.id, 'a1', outcome('succeeded', 4), now()), true)

  const queued = record()
  await store.create(queued, request)
  const running = record()
  await store.create(running, request)
  await store.begin(running.id, 'r1', now())
  await store.appendPages(running.id, 'r1', ['[0]'])
  const cancelling = record()
  await store.create(cancelling, request)
  await store.begin(cancelling.id, 'c1', now())
  await store.cancel(cancelling.id, now())

  const split = record()
  await store.create(split, request)
  await store.begin(split.id, 's1', now())
  assert.equal(await store.planPartitions(split.id, 's1', layout), true)
  assert.deepEqual(await store.beginPartition(split.id, 2, 'p2'), { outcome: 'began', runs: 1, unsettled: false })
  assert.equal(await store.appendPartitionPages(split.id, 2, 'p2', ['[20,21]', '[22]']), true)
  assert.equal(await store.commitPartition(split.id, 2, 'p2', part(3)), true)
  await store.beginPartition(split.id, 0, 'p0')
  await store.appendPartitionPages(split.id, 0, 'p0', ['[0,1]'])

  const removed = record({ idempotency_key: 'key-removed' })
  await store.claimIdempotencyKey('key-removed', JSON.stringify({ id: removed.id }))
  await store.create(removed, request)
  await store.begin(removed.id, 'x1', now())
  await store.appendPages(removed.id, 'x1', ['[9]'])
  await store.finish(removed.id, 'x1', outcome('failed', 1), now())
  assert.deepEqual(await store.remove(removed.id), { outcome: 'removed' })

  const doneBefore = await store.get(done.id)
  await store.close()
  assert.equal(existsSync(join(dir, 'lock')), false, 'closing releases the lock')

  store = await openStateDir({ dir, retentionMs: 60_000 })
  try {
    assert.deepEqual(store.recovered, { resume: [queued.id, running.id, cancelling.id, split.id].sort(), lost: [] })
    assert.deepEqual(await store.get(done.id), doneBefore)
    assert.deepEqual(await store.readPages(done.id, 'a1', 1, 10), ['["ü\\n",3]', '[4]'])
    assert.deepEqual(await store.getRequest(done.id), request)
    assert.equal(await store.claimIdempotencyKey('key-done', 'other'), 'first value')
    assert.equal(await store.get(removed.id), undefined)
    assert.equal(await store.claimIdempotencyKey('key-removed', 'new'), undefined, 'deleting a scan forgets its key, after a restart too')

    assert.equal((await store.get(queued.id))?.status, 'queued')
    const requeued = await store.get(running.id)
    assert.equal(requeued?.status, 'queued')
    assert.equal(requeued?.attempt, null)
    const began = await store.begin(running.id, 'r2', now())
    assert.equal(began?.crashedAttempts, 0, 'a store that was closed hands its running scans back')
    assert.deepEqual(await store.readPages(running.id, 'r2', 0, 10), [])
    assert.equal((await store.begin(cancelling.id, 'c2', now()))?.cancelRequested, true)

    const states = await store.partitionStates(split.id)
    assert.deepEqual(states.map((s) => [s.state, s.runs]), [['queued', 1], ['queued', 0], ['committed', 1]])
    assert.deepEqual(await store.resultEntry(split.id, 0), { seq: 0, part: 2, limit: 3 })
    assert.deepEqual(await store.readEntryPages(split.id, 2, 0, 10), ['[20,21]', '[22]'])
    assert.deepEqual(await store.beginPartition(split.id, 2, 'again'), { outcome: 'committed' })
    assert.deepEqual(await store.beginPartition(split.id, 0, 'p0b'), { outcome: 'began', runs: 2, unsettled: false })
    const files = readdirSync(join(dir, 'scans'))
    assert.deepEqual(files.filter((file) => file.includes(removed.id)), [])
    assert.deepEqual(files.filter((file) => file.endsWith('.pages')).sort(), [`${done.id}.a1.pages`, `${split.id}.p2.p2.pages`].sort(),
      'pages of attempts that did not commit are gone')
  } finally {
    await store.close()
  }
})

test('state directory: a process that died counts its running scan as crashed once, and a partition lost too often gives its scan up', async () => {
  const dir = temp()
  let store = await openStateDir({ dir, retentionMs: 60_000, maxLostRuns: 1 })
  const single = record()
  await store.create(single, request)
  await store.begin(single.id, 'a1', now())
  const split = record()
  await store.create(split, request)
  await store.begin(split.id, 's1', now())
  await store.planPartitions(split.id, 's1', layout)
  await store.beginPartition(split.id, 1, 'p1')
  deadOwnersLock(dir)

  store = await openStateDir({ dir, retentionMs: 60_000, maxLostRuns: 1 })
  assert.deepEqual(store.recovered, { resume: [single.id, split.id], lost: [] })
  deadOwnersLock(dir)
  store = await openStateDir({ dir, retentionMs: 60_000, maxLostRuns: 1 })
  assert.equal((await store.begin(single.id, 'a2', now()))?.crashedAttempts, 1, 'counted once, not at every start')
  await store.begin(split.id, 's2', now())
  await store.beginPartition(split.id, 1, 'p1b')
  deadOwnersLock(dir)

  store = await openStateDir({ dir, retentionMs: 60_000, maxLostRuns: 1 })
  try {
    assert.deepEqual(store.recovered, { resume: [single.id], lost: [split.id] })
    assert.equal((await store.begin(single.id, 'a3', now()))?.crashedAttempts, 2)
  } finally {
    await store.close()
  }
})

test('state directory: a torn last line is cut off, a scan whose first line is torn was never accepted, a damaged line stops the start naming it', async () => {
  const dir = temp()
  let store = await openStateDir({ dir })
  const scan = record()
  await store.create(scan, request)
  await store.begin(scan.id, 'a1', now())
  await store.close()
  const journal = join(dir, 'scans', `${scan.id}.jsonl`)
  const good = readFileSync(journal, 'utf8')
  appendFileSync(journal, '{"t":"record","record":{"id":"')

  const torn = newScanId()
  writeFileSync(join(dir, 'scans', `${torn}.request.json`), JSON.stringify(request))
  writeFileSync(join(dir, 'scans', `${torn}.jsonl`), '{"t":"scan","scan":{"rec')

  store = await openStateDir({ dir })
  assert.equal((await store.get(scan.id))?.status, 'queued')
  assert.equal(await store.get(torn), undefined)
  await store.close()
  const text = readFileSync(journal, 'utf8')
  assert.ok(text.startsWith(good) && text.endsWith('\n'), 'the torn line is cut off, the next change follows the last whole one')
  for (const line of text.split('\n').slice(0, -1)) JSON.parse(line)
  assert.equal(existsSync(join(dir, 'scans', `${torn}.jsonl`)), false)
  assert.equal(existsSync(join(dir, 'scans', `${torn}.request.json`)), false)

  const lines = good.split('\n')
  writeFileSync(journal, [lines[0], '{"t":"record",', ...lines.slice(1)].join('\n'))
  await assert.rejects(openStateDir({ dir, variable: 'PARASCAN_STATE_DIR' }), (error: Error) => {
    assert.match(error.message, /PARASCAN_STATE_DIR: .*line 2 of .*\.jsonl is damaged/)
    return true
  })
  assert.equal(existsSync(join(dir, 'lock')), false, 'a failed start leaves no lock behind')
})

test('state directory: a second store on it is refused while the first holds it; other directories and versions are refused', async () => {
  const dir = temp()
  const first = await openStateDir({ dir })
  await assert.rejects(openStateDir({ dir }), new RegExp(`PARASCAN_STATE_DIR: .* in use by process ${process.pid} `))
  await first.close()
  await (await openStateDir({ dir })).close()

  const other = temp()
  writeFileSync(join(other, 'notes.txt'), 'mine')
  await assert.rejects(openStateDir({ dir: other }), /not a state directory of this service \(it holds notes\.txt/)
  assert.equal(readFileSync(join(other, 'notes.txt'), 'utf8'), 'mine')

  writeFileSync(join(dir, 'format'), 'parascan-state 99\n')
  await assert.rejects(openStateDir({ dir }), /another version/)
  await assert.rejects(openStateDir({ dir: join(other, 'notes.txt', 'state') }), /PARASCAN_STATE_DIR: .*ENOTDIR/)
})

test('state directory: finished scans expire after the retention, also while the store was closed; results a scan needs must be there', async () => {
  const dir = temp()
  let store = await openStateDir({ dir, retentionMs: 300 })
  const scan = record()
  await store.create(scan, request)
  await store.begin(scan.id, 'a1', now())
  await store.appendPages(scan.id, 'a1', ['[1]'])
  await store.finish(scan.id, 'a1', outcome('succeeded', 1), now())
  const kept = record()
  await store.create(kept, request)
  await store.close()
  await new Promise((resolve) => setTimeout(resolve, 400))
  store = await openStateDir({ dir, retentionMs: 300 })
  assert.equal(await store.get(scan.id), undefined)
  assert.equal((await store.get(kept.id))?.status, 'queued')
  await store.begin(kept.id, 'k1', now())
  await store.appendPages(kept.id, 'k1', ['[1]'])
  await store.finish(kept.id, 'k1', outcome('succeeded', 1), now())
  await store.close()
  assert.deepEqual(readdirSync(join(dir, 'scans')).filter((file) => file.startsWith(scan.id)), [])

  unlinkSync(join(dir, 'scans', `${kept.id}.k1.pages`))
  await assert.rejects(openStateDir({ dir, retentionMs: 60_000 }), /results of scan .* are missing/)
})

test('state directory pages: any pages appended in any batches read back exactly, by any window, before and after sealing and in a new process', async () => {
  const dir = temp()
  mkdirSync(join(dir, 'p'))
  let n = 0
  await fc.assert(fc.asyncProperty(
    fc.array(fc.array(fc.oneof(fc.json(), fc.string({ unit: 'grapheme', minLength: 0, maxLength: 300 }).map((s) => JSON.stringify([s])), fc.nat(200_000).map((size) => JSON.stringify(['x'.repeat(size)]))), { minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 8 }),
    fc.array(fc.tuple(fc.nat(200), fc.integer({ min: 1, max: 40 })), { minLength: 1, maxLength: 10 }),
    async (batches, windows) => {
      const name = `f${n++}`
      const all = batches.flat()
      let pages = new FileResultPages(join(dir, 'p'), 'test')
      for (const batch of batches) await pages.append(name, batch)
      const check = async (): Promise<void> => {
        for (const [from, count] of windows) assert.deepEqual(await pages.read(name, from, count), all.slice(from, from + count))
      }
      await check()
      await pages.seal(name)
      await check()
      await pages.close()
      pages = new FileResultPages(join(dir, 'p'), 'test')
      await check()
      await pages.close()
    }), { numRuns: 40 })
})

test('state directory: storage charges outlive the store: a finished scan and the committed partitions of a running one count, what runs again does not; a torn part line drops only its own charge', async () => {
  const dir = temp()
  let store = await openStateDir({ dir, retentionMs: 60_000 })
  const charge = async (tenant: string, unit: string, attempt: string, pages: string[]): Promise<void> => {
    const bytes = pages.reduce((sum, page) => sum + Buffer.byteLength(page), 0)
    assert.equal((await store.chargeStorage(tenant, unit, attempt, bytes, 0)).charged, true)
  }
  const done = record({ tenant: 't' })
  await store.create(done, request)
  await store.begin(done.id, 'a1', now())
  await charge('t', done.id, 'a1', ['[1,2]', '["ü"]'])
  await store.appendPages(done.id, 'a1', ['[1,2]', '["ü"]'])
  assert.equal(await store.finish(done.id, 'a1', outcome('succeeded', 3), now()), true)

  const running = record({ tenant: 't' })
  await store.create(running, request)
  await store.begin(running.id, 'r1', now())
  await charge('t', running.id, 'r1', ['[0]'])
  await store.appendPages(running.id, 'r1', ['[0]'])

  const split = record({ tenant: 't' })
  await store.create(split, request)
  await store.begin(split.id, 's1', now())
  assert.equal(await store.planPartitions(split.id, 's1', layout), true)
  for (const [index, pages] of [[2, ['[20,21]', '[22]']], [1, ['[10]']]] as const) {
    await store.beginPartition(split.id, index, `p${index}`)
    await charge('t', `${split.id}/${index}`, `p${index}`, [...pages])
    await store.appendPartitionPages(split.id, index, `p${index}`, [...pages])
    assert.equal(await store.commitPartition(split.id, index, `p${index}`, part(pages.length)), true)
  }
  await store.beginPartition(split.id, 0, 'p0')
  await charge('t', `${split.id}/0`, 'p0', ['[0,1]'])
  await store.appendPartitionPages(split.id, 0, 'p0', ['[0,1]'])
  const other = record({ tenant: 'u' })
  await store.create(other, request)
  await store.begin(other.id, 'o1', now())
  await charge('u', other.id, 'o1', ['[7]'])
  await store.appendPages(other.id, 'o1', ['[7]'])
  await store.finish(other.id, 'o1', outcome('succeeded', 1), now())
  const bytes = (...pages: string[]): number => Buffer.byteLength(pages.join(''))
  assert.equal((await store.storageUsage('t')).used, bytes('[1,2]', '["ü"]', '[0]', '[20,21]', '[22]', '[10]', '[0,1]'))
  await store.close()

  store = await openStateDir({ dir, retentionMs: 60_000 })
  const kept = bytes('[1,2]', '["ü"]', '[20,21]', '[22]', '[10]')
  assert.equal((await store.storageUsage('t')).used, kept, 'the finished scan and the committed partitions; not the scan queued again nor the partition that runs again')
  assert.equal((await store.storageUsage('u')).used, 3)
  assert.equal((await store.chargeStorage('t', done.id, 'a1', 1, kept)).charged, false, 'the quota counts the restored bytes')
  assert.deepEqual(await store.remove(done.id), { outcome: 'removed' })
  assert.equal((await store.storageUsage('t')).used, bytes('[20,21]', '[22]', '[10]'), 'deleting a restored scan frees its bytes')
  await store.close()

  const journal = join(dir, 'scans', `${split.id}.jsonl`)
  const lines = readFileSync(journal, 'utf8').split('\n').slice(0, -1)
  const last = lines.findLastIndex((line) => line.includes('"t":"part"') && line.includes('"charge"'))
  assert.ok(last > 0)
  writeFileSync(journal, lines.slice(0, last).join('\n') + '\n' + lines[last].slice(0, lines[last].length >> 1))
  store = await openStateDir({ dir, retentionMs: 60_000 })
  assert.equal((await store.storageUsage('t')).used, bytes('[20,21]', '[22]'), 'the torn line is cut off with its charge; the partition runs again')
  await store.close()
})
