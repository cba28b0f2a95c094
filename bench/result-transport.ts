import { Worker } from 'node:worker_threads'

/**
 * What it costs the receiving thread to take results from a worker:
 * structured clone of objects, JSON text (parsed or passed through), and
 * JSON text as transferred UTF-8 bytes. Usage: node dist/bench/result-transport.js [records]
 */
const records = Number(process.argv[2] ?? 500_000)
const batch = 16_384

const workerCode = `
const { parentPort } = require('node:worker_threads')
parentPort.on('message', ({ mode, records, batch }) => {
  const encoder = new TextEncoder()
  for (let start = 0; start < records; start += batch) {
    const items = []
    for (let r = start; r < Math.min(records, start + batch); r++) items.push({ id: r, even: r % 2 === 0 })
    if (mode === 'clone') parentPort.postMessage(items)
    else if (mode === 'bytes') { const bytes = encoder.encode(JSON.stringify(items)); parentPort.postMessage(bytes, [bytes.buffer]) }
    else parentPort.postMessage(JSON.stringify(items))
  }
  parentPort.postMessage(null)
})`

async function measure (mode: string, parse: boolean): Promise<{ wall: number, main: number }> {
  const worker = new Worker(workerCode, { eval: true })
  const decoder = new TextDecoder()
  let count = 0
  const start = performance.now()
  const loop = performance.eventLoopUtilization()
  await new Promise<void>((resolve) => {
    worker.on('message', (message: unknown) => {
      if (message === null) return resolve()
      let values: unknown[] | undefined
      if (mode === 'clone') values = message as unknown[]
      else if (mode === 'bytes') values = parse ? JSON.parse(decoder.decode(message as Uint8Array)) as unknown[] : undefined
      else values = parse ? JSON.parse(message as string) as unknown[] : undefined
      count += values?.length ?? 0
    })
    worker.postMessage({ mode, records, batch })
  })
  const wall = performance.now() - start
  const main = performance.eventLoopUtilization(loop).active
  await worker.terminate()
  if (parse && count !== records) throw new Error(`${mode}: got ${count} records`)
  return { wall, main }
}

const rows: string[] = ['| transport | wall ms | main thread busy ms |', '|---|---:|---:|']
for (const [label, mode, parse] of [
  ['structured clone of objects', 'clone', true],
  ['JSON text, parsed', 'json', true],
  ['JSON text in transferred bytes, parsed', 'bytes', true],
  ['JSON text, passed on unparsed', 'json', false]
] as const) {
  await measure(mode, parse)
  const best = [await measure(mode, parse), await measure(mode, parse)].sort((a, b) => a.wall - b.wall)[0]
  rows.push(`| ${label} | ${best.wall.toFixed(0)} | ${best.main.toFixed(0)} |`)
}
console.log(`${records} records of { id, even } in batches of ${batch}\n`)
console.log(rows.join('\n'))
