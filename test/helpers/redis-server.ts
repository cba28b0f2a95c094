import { spawn, type ChildProcess } from 'node:child_process'
import { Redis } from 'ioredis'
import { freePort } from './free-port.js'
import { waitFor } from './service-harness.js'

/** Resolves once a Redis at 127.0.0.1:`port` answers PING. */
export async function redisReady (port: number): Promise<void> {
  await waitFor(async () => {
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
    probe.on('error', () => {})
    try {
      await probe.connect()
      return await probe.ping() === 'PONG' ? true : undefined
    } catch {
      return undefined
    } finally {
      probe.disconnect()
    }
  }, 10_000, 50)
}

/** A redis-server of a test's own (no persistence) on a free port, ready; kill it with SIGKILL when done. */
export async function ownRedisServer (): Promise<{ child: ChildProcess, port: number, url: string }> {
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  await redisReady(port)
  return { child, port, url: `redis://127.0.0.1:${port}` }
}
