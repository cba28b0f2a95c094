import { readdir, realpath, stat } from 'node:fs/promises'
import { isAbsolute, join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { paramsJsonSchema, processorOf, type Processor } from './processor.js'
import type { ProcessorInfo } from '../../schemas/processor.js'
import { syntheticProcessor } from './synthetic-processor.js'

export interface CatalogueEntry {
  processor: Processor
  /** File URL of the plug-in module; undefined for built-ins. */
  module?: string
  /** File name of the plug-in inside PARASCAN_PROCESSORS_DIR; undefined for built-ins. */
  file?: string
}

export interface ProcessorCatalogue {
  entries: Map<string, CatalogueEntry>
  /** Why plug-in files of PARASCAN_PROCESSORS_DIR were left out: for the operator's log (they may name server paths). */
  problems: string[]
}

export const builtinProcessors: ReadonlyMap<string, Processor> = new Map<string, Processor>([
  [syntheticProcessor.name, syntheticProcessor as Processor]
])

const PLUGIN_FILE = /\.(?:m?js|cjs)$/

/** How long one plug-in module may take to load (top-level await included) before it is left out. */
export const PLUGIN_LOAD_TIMEOUT_MS = 10_000

const catalogues = new Map<string, Promise<ProcessorCatalogue>>()

function builtinCatalogue (): Map<string, CatalogueEntry> {
  return new Map([...builtinProcessors].map(([name, processor]) => [name, { processor }]))
}

async function importWithin (module: string, ms: number): Promise<Record<string, unknown>> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish loading within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([import(module) as Promise<Record<string, unknown>>, late])
  } finally {
    clearTimeout(timer)
  }
}

/** The plug-in's real file, or why it is not one: not a regular file, or a link to a file outside the directory. */
async function pluginFile (realDir: string, dir: string, file: string): Promise<string> {
  const real = await realpath(join(dir, file))
  const inside = relative(realDir, real)
  if (inside.startsWith('..') || isAbsolute(inside)) throw new Error(`links to ${real}, outside PARASCAN_PROCESSORS_DIR`)
  if (!(await stat(real)).isFile()) throw new Error('is not a regular file')
  return real
}

/** Loads the plug-ins of `dir` afresh (processorCatalogue() caches this per directory). */
export async function loadProcessorCatalogue (dir: string, options: { loadTimeoutMs?: number } = {}): Promise<ProcessorCatalogue> {
  const entries = builtinCatalogue()
  const problems: string[] = []
  let files: string[] = []
  let realDir = dir
  try {
    realDir = await realpath(dir)
    files = (await readdir(dir)).filter((file) => PLUGIN_FILE.test(file)).sort()
  } catch (error) {
    problems.push(`PARASCAN_PROCESSORS_DIR ${dir} cannot be read: ${(error as Error).message}`)
  }
  for (const file of files) {
    let exported: Record<string, unknown>
    let module: string
    try {
      module = pathToFileURL(await pluginFile(realDir, dir, file)).href
      exported = await importWithin(module, options.loadTimeoutMs ?? PLUGIN_LOAD_TIMEOUT_MS)
    } catch (error) {
      problems.push(`${join(dir, file)} cannot be loaded: ${(error as Error).message}`)
      continue
    }
    const processor = processorOf(exported)
    if (typeof processor === 'string') problems.push(`${join(dir, file)} ${processor}`)
    else if (entries.has(processor.name)) problems.push(`${join(dir, file)} defines processor "${processor.name}", which already exists`)
    else entries.set(processor.name, { processor, module, file })
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
    catalogue = loadProcessorCatalogue(dir)
    catalogues.set(dir, catalogue)
  }
  return catalogue
}

/** What GET /v1/processors lists: built-ins first, then plug-ins by name; no server paths. */
export async function listProcessors (processorsDir?: string): Promise<ProcessorInfo[]> {
  const { entries } = await processorCatalogue(processorsDir)
  const infos = [...entries.values()].map(({ processor, module }): ProcessorInfo => ({
    name: processor.name,
    description: processor.description ?? null,
    builtin: module === undefined,
    params_schema: paramsJsonSchema(processor)
  }))
  return infos.sort((a, b) => Number(b.builtin) - Number(a.builtin) || a.name.localeCompare(b.name))
}
