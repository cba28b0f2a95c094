import { WorkStealingPool } from '../src/parallel/work-stealing-pool.js'
import type { IsolatedRequest, IsolatedParentMessage, IsolatedChildMessage } from '../src/parallel/isolated-pool.js'
import { describeScanError } from './describe-scan-error.js'

if (process.send === undefined) throw new Error('isolated-pool-process must be started with an IPC channel')

const send = async (message: IsolatedChildMessage): Promise<void> => await new Promise((resolve, reject) => {
  process.send!(message, undefined, undefined, (error) => { if (error === null) resolve(); else reject(error) })
})
const acks = new Map<number, () => void>()

// The instance that started this process is gone: nothing can read what it would send.
process.on('disconnect', () => process.exit(0))

process.on('message', (message: IsolatedParentMessage) => {
  if (message.type === 'ack') acks.get(message.seq)?.()
  else void run(message)
})

async function run (request: IsolatedRequest): Promise<void> {
  const pool = new WorkStealingPool({ config: request.config, max_old_generation_mb: request.maxOldGenerationMb })
  let seq = 0
  try {
    const summary = await pool.stream(request.total, request.task, {
      ...request.options,
      config: request.config,
      metrics: (event, data) => { void send({ type: 'metrics', event, data }).catch(() => {}) },
      onBatch: async (batch) => {
        const n = seq++
        const acked = new Promise<void>((resolve) => acks.set(n, resolve))
        await send({ type: 'batch', seq: n, batch })
        await acked
        acks.delete(n)
      }
    })
    await send({ type: 'done', summary })
  } catch (error) {
    await send({ type: 'failed', error: describeScanError(error) }).catch(() => {})
  }
  await pool.close()
  process.disconnect()
}
