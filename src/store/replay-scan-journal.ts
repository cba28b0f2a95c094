import { readFile, truncate } from 'node:fs/promises'
import type { ScanChange, StoredScan } from './scan-journal.js'

type Line = { t: 'scan', scan: StoredScan } | ScanChange

const STATUSES = new Set(['queued', 'running', 'succeeded', 'failed', 'cancelled'])

/**
 * The scan a journal file describes. A last line cut short (the process died while writing it)
 * is cut off the file: that change was never answered. Undefined when not even the first line is
 * whole (the scan was never accepted). Any other damage throws, naming the line.
 */
export async function replayScanJournal (path: string, id: string): Promise<StoredScan | undefined> {
  const text = await readFile(path, 'utf8')
  const lines = text.split('\n')
  let scan: StoredScan | undefined
  let good = 0
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === '' && i === lines.length - 1) break
    let line: Line
    try {
      line = JSON.parse(lines[i]) as Line
      if (i === lines.length - 1) throw new Error('no end of line')
      scan = apply(scan, line, id)
    } catch (error) {
      if (i < lines.length - 1 && lines.slice(i + 1).some((rest) => rest.replaceAll('\0', '') !== '')) {
        throw new Error(`line ${i + 1} of ${path} is damaged (${(error as Error).message})`)
      }
      await truncate(path, good)
      break
    }
    good += Buffer.byteLength(lines[i]) + 1
  }
  return scan
}

function apply (scan: StoredScan | undefined, line: Line, id: string): StoredScan {
  if (line.t === 'scan') {
    if (line.scan?.record?.id !== id || !STATUSES.has(line.scan.record.status)) throw new Error(`not a snapshot of scan ${id}`)
    return line.scan
  }
  if (scan === undefined) throw new Error('the journal does not start with the scan')
  if (line.t === 'record') {
    if (line.record?.id !== id || !STATUSES.has(line.record.status)) throw new Error(`not a record of scan ${id}`)
    return { ...scan, record: line.record, cancelRequested: line.cancelRequested, crashes: line.crashes }
  }
  if (line.t === 'partitions') return { ...scan, partitions: line.partitions }
  if (line.t === 'part') {
    const partitions = scan.partitions
    if (partitions?.parts[line.part?.index] === undefined) throw new Error('a partition the scan does not have')
    partitions.parts[line.part.index] = line.part
    if (line.log !== undefined) partitions.log.push(line.log)
    const charge = line.charge
    if (charge !== undefined) scan.charges = [...(scan.charges ?? []).filter((kept) => kept.unit !== charge.unit), charge]
    return scan
  }
  throw new Error(`unknown change ${JSON.stringify((line as { t?: unknown }).t)}`)
}
