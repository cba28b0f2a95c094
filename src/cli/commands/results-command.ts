import { Command, Option } from 'commander'
import { ApiClient } from '../api-client.js'
import { downloadResults } from '../download-results.js'
import { NdjsonOutput } from '../ndjson-output.js'
import { apiKeyOption, intervalOption, positiveInteger, urlOption, type ClientOptions } from '../options.js'

export function resultsCommand (): Command {
  return new Command('results')
    .description('write the results of a scan as NDJSON, following a running scan until it finishes')
    .argument('<id>', 'scan id')
    .addOption(urlOption())
    .addOption(apiKeyOption())
    .option('-o, --out <file>', 'write to this file instead of standard output')
    .addOption(intervalOption())
    .addOption(new Option('--page-size <n>', 'results per page request').argParser(positiveInteger).default(10_000))
    .action(async (id: string, options: ClientOptions & { out?: string, interval: number, pageSize: number }) => {
      const client = new ApiClient(options)
      const output = await NdjsonOutput.open(options.out)
      try {
        await downloadResults(client, id, output, { pageSize: options.pageSize, intervalMs: options.interval })
        await output.commit()
      } catch (error) {
        await output.discard()
        throw error
      }
      if (options.out !== undefined) process.stderr.write(`${output.lines} results written to ${options.out}\n`)
    })
}
