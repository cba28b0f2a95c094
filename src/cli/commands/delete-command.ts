import { Command } from 'commander'
import { ApiClient } from '../api-client.js'
import { apiKeyOption, jsonOption, urlOption, writeJson, type ClientOptions } from '../options.js'

export function deleteCommand (): Command {
  return new Command('delete')
    .description('remove a finished scan and its results')
    .argument('<id>', 'scan id')
    .addOption(urlOption())
    .addOption(apiKeyOption())
    .addOption(jsonOption('{"id": …, "deleted": true}'))
    .action(async (id: string, options: ClientOptions & { json?: boolean }) => {
      await new ApiClient(options).remove(id)
      if (options.json === true) writeJson({ id, deleted: true })
      else process.stdout.write(`scan ${id} deleted\n`)
    })
}
