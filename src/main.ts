import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { closeApp, listen } from './server.js'

try {
  const app = await buildApp({ env: process.env })
  await listen(app)
  closeWithGrace({ delay: app.config.shutdownGraceMs + 5000, logger: false }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'fatal error, shutting down')
    else app.log.info({ signal }, 'shutting down')
    await closeApp(app)
  })
} catch (error) {
  process.stderr.write(`parascan: cannot start: ${(error as Error).message}\n`)
  process.exit(1)
}
