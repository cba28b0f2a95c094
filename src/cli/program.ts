import { Command } from 'commander'
import { cancelCommand } from './commands/cancel-command.js'
import { deleteCommand } from './commands/delete-command.js'
import { listCommand } from './commands/list-command.js'
import { resultsCommand } from './commands/results-command.js'
import { serveCommand } from './commands/serve-command.js'
import { statusCommand } from './commands/status-command.js'
import { submitCommand } from './commands/submit-command.js'

export function createProgram (version: string): Command {
  return new Command('parascan')
    .description('Parallel scans as a service: run the service, or submit and follow scans')
    .version(version)
    .showHelpAfterError('(add --help for usage)')
    .addCommand(serveCommand())
    .addCommand(submitCommand())
    .addCommand(statusCommand())
    .addCommand(resultsCommand())
    .addCommand(cancelCommand())
    .addCommand(deleteCommand())
    .addCommand(listCommand())
}
