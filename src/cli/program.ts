import { Command } from 'commander'
import { cancelCommand } from './commands/cancel-command.js'
import { deleteCommand } from './commands/delete-command.js'
import { listCommand } from './commands/list-command.js'
import { resultsCommand } from './commands/results-command.js'
import { serveCommand } from './commands/serve-command.js'
import { statusCommand } from './commands/status-command.js'
import { submitCommand } from './commands/submit-command.js'

const EXIT_HELP = `
Output: results are NDJSON, one result per line. --json prints one JSON document on
standard output. Progress and errors go to standard error; an error is one line.

Exit codes: 0 done; 1 an error from the service or a local file; 2 a usage error;
3 the scan failed; 4 the scan was cancelled; 5 the service cannot be reached;
130 interrupted (Ctrl-C while waiting; the scan goes on).`

/** The parascan command line; usage errors throw a CommanderError instead of exiting. */
export function createProgram (version: string): Command {
  const program = new Command('parascan')
    .description('Parallel scans as a service: run the service, or submit and follow scans')
    .version(version)
    .addHelpText('after', EXIT_HELP)
  for (const command of [serveCommand(), submitCommand(), statusCommand(), resultsCommand(), cancelCommand(), deleteCommand(), listCommand()]) {
    program.addCommand(command)
  }
  for (const command of [program, ...program.commands]) command.exitOverride().showHelpAfterError('(add --help for usage)')
  return program
}
