import { Command } from 'commander'

export function serveCommand (): Command {
  return new Command('serve')
    .description('start the service (configured by the same environment variables as npm start)')
    .addHelpText('after', `
Environment: PARASCAN_PORT, PARASCAN_HOST, PARASCAN_REDIS_URL (unset: embedded mode), PARASCAN_DATA_DIR, PARASCAN_PROCESSORS_DIR,
PARASCAN_LOG_LEVEL, PROTO_PARALLEL_* and the service's limits; see the README.`)
    .action(async () => {
      await import('../../main.js')
    })
}
