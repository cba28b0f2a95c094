import type { FastifyInstance } from 'fastify'
import { buildApp, type AppOptions } from './app.js'
import type { ServiceConfig } from './config/service-config.js'

export interface RunningServer {
  app: FastifyInstance
  /** Base URL the server listens on, e.g. http://127.0.0.1:3000. */
  url: string
  config: ServiceConfig
  /** `app.close()`: stops taking work, lets the running scans finish within SHUTDOWN_GRACE (or hands them back), closes everything. */
  close(): Promise<void>
}

/** Listens on HOST and PORT; when it cannot, closes the app and throws an error that names them. */
export async function listen (app: FastifyInstance): Promise<string> {
  const { host, port, variables } = app.config
  try {
    return await app.listen({ port, host })
  } catch (error) {
    await app.close()
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') {
      throw new Error(`cannot listen on ${host}:${port} (${variables.PARASCAN_HOST}, ${variables.PARASCAN_PORT}): ${(error as Error).message}`)
    }
    throw error
  }
}

/** Builds the app from `env` and listens: embedded without REDIS_URL, on BullMQ + Redis with it. */
export async function startServer (env: NodeJS.ProcessEnv = process.env, options: Omit<AppOptions, 'env'> = {}): Promise<RunningServer> {
  const app = await buildApp({ ...options, env })
  const url = await listen(app)
  return { app, url, config: app.config, close: async () => await closeApp(app) }
}

/** How long after SHUTDOWN_GRACE a shutdown may wait for Redis before it drops the connections. */
const SHUTDOWN_FENCE_MS = 2000

/**
 * `app.close()`, bounded whatever Redis does: SHUTDOWN_GRACE plus 2 s in, every Redis connection
 * is dropped (pending commands fail), and a second later the close is over even if a client
 * library still waits for Redis.
 */
export async function closeApp (app: FastifyInstance): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const fence = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      app.log.warn('Redis held the shutdown up; its connections are dropped')
      for (const connection of Object.values(app.redis ?? {})) connection.disconnect()
      timer = setTimeout(resolve, 1000)
    }, app.config.shutdownGraceMs + SHUTDOWN_FENCE_MS)
  })
  try {
    await Promise.race([app.close(), fence])
  } finally {
    clearTimeout(timer)
  }
}
