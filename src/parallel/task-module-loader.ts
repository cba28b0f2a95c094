import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { TaskModuleError, withCause } from './errors.js'
import type { TaskModule } from './types.js'

const cache = new Map<string, Promise<TaskModule>>()

/** The file URL of a task module given as URL, file URL text or path. */
export function taskModuleUrl (module: string | URL): string {
  if (module instanceof URL) return module.href
  if (typeof module !== 'string' || module === '') {
    throw new TaskModuleError(String(module), 'module must be a file URL or a path')
  }
  if (/^[a-z][a-z0-9+.-]+:/i.test(module)) return new URL(module).href
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href
}

/** Imports a task module once per thread and checks its shape. */
export function loadTaskModule (url: string): Promise<TaskModule> {
  let loading = cache.get(url)
  if (loading === undefined) {
    loading = importTaskModule(url)
    cache.set(url, loading)
    loading.catch(() => cache.delete(url))
  }
  return loading
}

async function importTaskModule (url: string): Promise<TaskModule> {
  let ns: Record<string, unknown>
  try {
    ns = await import(url) as Record<string, unknown>
  } catch (error) {
    throw withCause(new TaskModuleError(url, `cannot be imported: ${error instanceof Error ? error.message : String(error)}`), error)
  }
  const task = (typeof ns.fetch === 'function' ? ns : ns.default ?? ns) as Record<string, unknown>
  for (const name of ['fetch', 'process']) {
    if (typeof task[name] !== 'function') throw new TaskModuleError(url, `does not export a function ${name}`)
  }
  for (const name of ['init', 'teardown', 'collect']) {
    if (task[name] !== undefined && typeof task[name] !== 'function') throw new TaskModuleError(url, `export ${name} is not a function`)
  }
  const aggregate = task.aggregate as Record<string, unknown> | undefined
  if (aggregate !== undefined) {
    for (const name of ['create', 'add', 'merge', 'finish']) {
      if (typeof aggregate?.[name] !== 'function') throw new TaskModuleError(url, `aggregate.${name} is not a function`)
    }
  }
  return task as unknown as TaskModule
}
