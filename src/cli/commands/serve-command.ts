import { Command } from 'commander'

export function serveCommand (): Command {
  return new Command('serve')
    .description('start the service (configured by the same environment variables as npm start)')
    .addHelpText('after', `
Environment: PORT, HOST, REDIS_URL (unset: embedded mode), DATA_DIR, PROCESSORS_DIR,
LOG_LEVEL, PROTO_PARALLEL_* and the service's limits; see the README.`)
    .action(async () => {
      await import('../../main.js')
    })
}
