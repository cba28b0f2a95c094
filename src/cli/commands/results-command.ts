import { Command } from 'commander'
import { ApiClient } from '../api-client.js'
import { downloadResults } from '../download-results.js'
import { NdjsonOutput } from '../ndjson-output.js'
import { apiKeyOption, intervalOption, urlOption, type ClientOptions } from '../options.js'
import { throwUnlessSucceeded } from './submit-command.js'

export function resultsCommand (): Command {
  return new Command('results')
    .description('write every result of a scan as NDJSON, once it has finished (a running scan is waited for)')
    .argument('<id>', 'scan id')
    .addOption(urlOption())
    .addOption(apiKeyOption())
    .option('-o, --out <file>', 'write to this file instead of standard output')
    .addOption(intervalOption())
    .addHelpText('after', `
The results of a failed or cancelled scan are the ones stored before it stopped: they are
written too (with --out, to FILE.partial), and the exit code is 3 (failed) or 4 (cancelled).`)
    .action(async (id: string, options: ClientOptions & { out?: string, interval: number }) => {
      const client = new ApiClient(options)
      const output = await NdjsonOutput.open(options.out)
      let status
      try {
        status = await downloadResults(client, id, output, { intervalMs: options.interval })
        if (status.status === 'succeeded') await output.commit()
      } catch (error) {
        await output.discard()
        throw error
      }
      if (status.status === 'succeeded') {
        if (options.out !== undefined) process.stderr.write(`${output.lines} results written to ${options.out}\n`)
        return
      }
      const where = await output.keepPartial()
      process.stderr.write(`scan ${id} ${status.status}: ${output.lines} partial results written to ${where}\n`)
      throwUnlessSucceeded(status)
    })
}
