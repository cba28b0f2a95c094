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

export const builtinProcessors: ReadonlyMap<string, Processor> = new Map<string, Processor>([
  [syntheticProcessor.name, syntheticProcessor as Processor]
])

const PLUGIN_FILE = /\.(?:m?js|cjs)$/

const catalogues = new Map<string, Promise<Map<string, CatalogueEntry>>>()

function builtinCatalogue (): Map<string, CatalogueEntry> {
  return new Map([...builtinProcessors].map(([name, processor]) => [name, { processor }]))
}

async function loadCatalogue (dir: string): Promise<Map<string, CatalogueEntry>> {
  const entries = builtinCatalogue()
  let files: string[]
  try {
    files = (await readdir(dir)).filter((file) => PLUGIN_FILE.test(file)).sort()
  } catch (error) {
    throw new Error(`PROCESSORS_DIR ${dir} cannot be read: ${(error as Error).message}`)
  }
  for (const file of files) {
    const module = pathToFileURL(join(dir, file)).href
    const exported: unknown = await import(module)
    if (!isProcessor(exported)) {
      throw new Error(`PROCESSORS_DIR: ${file} must export name (string), schema (with safeParse) and process (function)`)
    }
    if (entries.has(exported.name)) throw new Error(`PROCESSORS_DIR: ${file} defines processor "${exported.name}", which already exists`)
    entries.set(exported.name, { processor: exported, module })
  }
  return entries
}

/**
 * The built-in processors plus the plug-ins of `processorsDir`, loaded once per directory
 * (a restart picks up new plug-ins).
 */
export function processorCatalogue (processorsDir?: string): Promise<Map<string, CatalogueEntry>> {
  if (processorsDir === undefined || processorsDir === '') return Promise.resolve(builtinCatalogue())
  const dir = resolve(processorsDir)
  let catalogue = catalogues.get(dir)
  if (catalogue === undefined) {
    catalogue = loadCatalogue(dir)
    catalogue.catch(() => catalogues.delete(dir))
    catalogues.set(dir, catalogue)
  }
  return catalogue
}
