import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { freePort } from './free-port.js'
import { waitFor } from './service-harness.js'

/**
 * A redis-server of a test's own, on a free loopback port, for tests that kill and restart Redis.
 * With `aof` it writes an append-only file, fsynced at every write, into a temporary folder of its
 * own, and a restart reads it back.
 */
export class PrivateRedis {
  readonly port: number
  readonly url: string
  readonly #dir: string
  readonly #aof: boolean
  #child: ChildProcess | undefined

  private constructor (port: number, aof: boolean) {
    this.port = port
    this.url = `redis://127.0.0.1:${port}`
    this.#aof = aof
    this.#dir = mkdtempSync(join(tmpdir(), 'parascan-redis-'))
  }

  static async start (options: { aof: boolean }): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), options.aof)
    await redis.restart()
    return redis
  }

  /** Starts the server (again, on the same port and folder) and resolves once it answers PING. */
  async restart (): Promise<void> {
    const persistence = this.#aof ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']
    this.#child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.#dir, ...persistence,
      '--save', '', '--daemonize', 'no'], { stdio: 'ignore' })
    await waitFor(async () => {
      const probe = new Redis({ port: this.port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
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

  /** SIGKILL, resolved once the server exited. */
  async kill (): Promise<void> {
    const child = this.#child
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }

  /** Kills the server and removes its folder. */
  async close (): Promise<void> {
    await this.kill()
    rmSync(this.#dir, { recursive: true, force: true })
  }
}
