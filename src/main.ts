import closeWithGrace from 'close-with-grace'
import { startServer } from './server.js'

try {
  const server = await startServer(process.env)
  closeWithGrace({ delay: server.config.shutdownGraceMs + 5000, logger: false }, async ({ signal, err }) => {
    if (err !== undefined) server.app.log.error({ err }, 'fatal error, shutting down')
    else server.app.log.info({ signal }, 'shutting down')
    await server.close()
  })
} catch (error) {
  process.stderr.write(`parascan: cannot start: ${(error as Error).message}\n`)
  process.exit(1)
}
