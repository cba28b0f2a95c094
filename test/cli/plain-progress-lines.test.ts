import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import type { ScanStatusDocument } from '../../schemas/scan-status.js'
import { PlainProgressLines } from '../../src/cli/plain-progress-lines.js'

function statusAt (status: ScanStatusDocument['status'], processed: number, total: number): ScanStatusDocument {
  return {
    id: 'scan-1',
    status,
    progress: { total, processed, matched: processed, skipped: 0, fraction: total === 0 ? 0 : processed / total, records_per_second: 1000, eta_seconds: 1 }
  } as ScanStatusDocument
}

function lines (stream: PassThrough): string[] {
  return String(stream.read() ?? '').split('\n').filter((line) => line !== '')
}

test('an hour-long scan polled every 500 ms writes about two lines a minute, not one per poll', () => {
  const stream = new PassThrough()
  let now = 0
  const display = new PlainProgressLines(stream, { now: () => now })
  const total = 3_600_000
  display.update(statusAt('queued', 0, total))
  for (let ms = 0; ms <= 3_600_000; ms += 500) {
    now = ms + 2000
    display.update(statusAt('running', ms, total))
  }
  display.update(statusAt('succeeded', total, total))
  const written = lines(stream)
  assert.ok(written.length >= 120 && written.length <= 135, `${written.length} lines`)
  assert.equal(written[0], 'scan scan-1 queued')
  assert.match(written[1], /^scan scan-1 running 0\/3600000 records \(0\.0%\)/)
  assert.match(written.at(-1)!, /^scan scan-1 succeeded 3600000\/3600000 records \(100\.0%\)/)
})

test('a status change is written at once; a stalled scan is not repeated; 10 % steps are written at most once a second', () => {
  const stream = new PassThrough()
  let now = 0
  const display = new PlainProgressLines(stream, { now: () => now })
  display.update(statusAt('running', 0, 100))
  for (let i = 1; i <= 200; i++) {
    now = i * 10_000
    display.update(statusAt('running', 5, 100))
  }
  assert.equal(lines(stream).length, 2, 'the first line, then one when it moved, and nothing while it stalls')
  now += 100
  display.update(statusAt('running', 50, 100))
  now += 100
  display.update(statusAt('running', 60, 100))
  now += 1000
  display.update(statusAt('running', 70, 100))
  display.update(statusAt('cancelled', 70, 100))
  assert.deepEqual(lines(stream).map((line) => line.split(' ').slice(2, 4).join(' ')), ['running 50/100', 'running 70/100', 'cancelled 70/100'])
})
