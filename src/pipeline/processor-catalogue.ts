import { readdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { isProcessor, type Processor } from './processor.js'
import { syntheticProcessor } from './synthetic-processor.js'

export interface CatalogueEntry {
  processor: Processor
  /** File URL of the plug-in module; undefined for built-ins. */
  module?: string
}

export interface ProcessorCatalogue {
  entries: Map<string, CatalogueEntry>
  /** Why plug-in files of PROCESSORS_DIR were left out (a deployment fault, told to whoever asks for a missing processor). */
  problems: string[]
}

export const builtinProcessors: ReadonlyMap<string, Processor> = new Map<string, Processor>([
  [syntheticProcessor.name, syntheticProcessor as Processor]
])

const PLUGIN_FILE = /\.(?:m?js|cjs)$/

const catalogues = new Map<string, Promise<ProcessorCatalogue>>()

function builtinCatalogue (): Map<string, CatalogueEntry> {
  return new Map([...builtinProcessors].map(([name, processor]) => [name, { processor }]))
}

async function loadCatalogue (dir: string): Promise<ProcessorCatalogue> {
  const entries = builtinCatalogue()
  const problems: string[] = []
  let files: string[] = []
  try {
    files = (await readdir(dir)).filter((file) => PLUGIN_FILE.test(file)).sort()
  } catch (error) {
    problems.push(`PROCESSORS_DIR cannot be read: ${(error as Error).message}`)
  }
  for (const file of files) {
    const module = pathToFileURL(join(dir, file)).href
    let exported: unknown
    try {
      exported = await import(module)
    } catch (error) {
      problems.push(`${file} cannot be imported: ${(error as Error).message}`)
      continue
    }
    if (!isProcessor(exported)) problems.push(`${file} does not export name (string), schema (with safeParse) and process (function)`)
    else if (entries.has(exported.name)) problems.push(`${file} defines processor "${exported.name}", which already exists`)
    else entries.set(exported.name, { processor: exported, module })
  }
  return { entries, problems }
}

/**
 * The built-in processors plus the plug-ins of `processorsDir`, loaded once per directory
 * (a restart picks up new plug-ins).
 */
export function processorCatalogue (processorsDir?: string): Promise<ProcessorCatalogue> {
  if (processorsDir === undefined || processorsDir === '') return Promise.resolve({ entries: builtinCatalogue(), problems: [] })
  const dir = resolve(processorsDir)
  let catalogue = catalogues.get(dir)
  if (catalogue === undefined) {
    catalogue = loadCatalogue(dir)
    catalogues.set(dir, catalogue)
  }
  return catalogue
}
