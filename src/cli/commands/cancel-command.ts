import { Command } from 'commander'
import { ApiClient } from '../api-client.js'
import { urlOption } from '../options.js'

export function cancelCommand (): Command {
  return new Command('cancel')
    .description('cancel a queued or running scan (any instance can cancel a scan that runs on another)')
    .argument('<id>', 'scan id')
    .addOption(urlOption())
    .action(async (id: string, options: { url: string }) => {
      const status = await new ApiClient({ url: options.url }).cancel(id)
      process.stdout.write(`scan ${status.id} ${status.status === 'cancelled' ? 'cancelled' : `cancel requested (status: ${status.status})`}\n`)
    })
}
