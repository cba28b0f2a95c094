import { Command } from 'commander'
import { ApiClient } from '../api-client.js'
import { urlOption } from '../options.js'

export function deleteCommand (): Command {
  return new Command('delete')
    .description('remove a finished scan and its results')
    .argument('<id>', 'scan id')
    .addOption(urlOption())
    .action(async (id: string, options: { url: string }) => {
      await new ApiClient({ url: options.url }).remove(id)
      process.stdout.write(`scan ${id} deleted\n`)
    })
}
