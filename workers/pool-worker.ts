import { parentPort } from 'node:worker_threads'
import { runThreadScan } from '../src/parallel/thread-scan.js'
import type { ScanMessage, WorkerMessage } from '../src/parallel/worker-protocol.js'

const port = parentPort
if (port === null) throw new Error('pool-worker must run in a worker thread')

const post = (message: WorkerMessage): void => port.postMessage(message)

port.on('message', (message: ScanMessage) => {
  if (message.type === 'scan') void runThreadScan(message.spec, post)
})
