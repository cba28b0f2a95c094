import { constants } from 'node:fs'
import { mkdir, open, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { ServiceUnavailableError } from '../errors.js'

/** An error of the state directory while the service runs: a 503 that names it and the cause. */
export function stateDirError (label: string, what: string, cause: unknown): Error {
  if (cause instanceof ServiceUnavailableError) return cause
  const message = (cause as Error)?.message ?? String(cause)
  return new ServiceUnavailableError(`${what} in ${label}: ${message}`)
}

/** Makes the entries of a directory (files created, renamed, removed) durable. */
export async function syncDir (dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** Writes a whole file and makes it durable; `exclusive` fails when it exists. */
export async function writeDurably (path: string, data: string, exclusive = false): Promise<void> {
  const fh = await open(path, exclusive ? 'wx' : 'w', 0o600)
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/**
 * Appends one line to an existing file and makes it durable; a write that fails is cut off again,
 * so the file never keeps half a line. False when the file is gone.
 */
export async function appendDurably (path: string, line: string): Promise<boolean> {
  let fh
  try {
    fh = await open(path, constants.O_WRONLY | constants.O_APPEND)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
  try {
    const { size } = await fh.stat()
    try {
      await fh.writeFile(line)
    } catch (error) {
      await fh.truncate(size).catch(() => {})
      throw error
    }
    await fh.sync()
    return true
  } finally {
    await fh.close()
  }
}

/**
 * Creates a directory and its missing parents. Node's own `recursive` never returns where a
 * parent exists but cannot hold directories (it loops on ENOENT under /proc).
 */
export async function makeDirectory (path: string): Promise<void> {
  try {
    await mkdir(path, 0o700)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST') {
      if ((await stat(path)).isDirectory()) return
      throw error
    }
    if (code !== 'ENOENT' || dirname(path) === path) throw error
    await makeDirectory(dirname(path))
    await mkdir(path, 0o700)
  }
}
