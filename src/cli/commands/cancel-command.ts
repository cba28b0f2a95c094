import { Command } from 'commander'
import { ApiClient } from '../api-client.js'
import { apiKeyOption, jsonOption, urlOption, writeJson, type ClientOptions } from '../options.js'

export function cancelCommand (): Command {
  return new Command('cancel')
    .description('cancel a queued or running scan (any instance can cancel a scan that runs on another)')
    .argument('<id>', 'scan id')
    .addOption(urlOption())
    .addOption(apiKeyOption())
    .addOption(jsonOption('the status document'))
    .action(async (id: string, options: ClientOptions & { json?: boolean }) => {
      const status = await new ApiClient(options).cancel(id)
      if (options.json === true) writeJson(status)
      else process.stdout.write(`scan ${status.id} ${status.status === 'cancelled' ? 'cancelled' : `cancel requested (status: ${status.status})`}\n`)
    })
}
