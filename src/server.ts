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

/** Builds the app from `env` and listens on PORT and HOST: embedded without REDIS_URL, on BullMQ + Redis with it. */
export async function startServer (env: NodeJS.ProcessEnv = process.env, options: Omit<AppOptions, 'env'> = {}): Promise<RunningServer> {
  const app = await buildApp({ ...options, env })
  try {
    const url = await app.listen({ port: app.config.port, host: app.config.host })
    return { app, url, config: app.config, close: async () => await app.close() }
  } catch (error) {
    await app.close()
    throw error
  }
}
