import { constants } from 'node:fs'
import { access, realpath, stat } from 'node:fs/promises'
import { isAbsolute, relative, resolve, sep, win32 } from 'node:path'
import { PathOutsideDataDirError, SourceFileError, withFieldErrors } from '../errors.js'

export interface DataFile {
  /** Absolute real path. */
  realpath: string
  size: number
  mtimeMs: number
  /** Inode and status-change time: with size and mtime, what tells one version of the file from another. */
  ino: number
  ctimeMs: number
}

function inside (root: string, candidate: string): boolean {
  const rel = relative(root, candidate)
  return rel !== '' && rel !== '..' && !rel.startsWith('..' + sep) && !isAbsolute(rel)
}

function outside (path: string): Error {
  return withFieldErrors(new PathOutsideDataDirError(JSON.stringify(path)), [{ path: 'source.path', message: 'leads outside PARASCAN_DATA_DIR' }])
}

function unreadable (path: string, reason: string): Error {
  return withFieldErrors(new SourceFileError(JSON.stringify(path), reason), [{ path: 'source.path', message: reason }])
}

/**
 * Why a file cannot be used, in words that never carry a server path: system errors are told by
 * their code, other messages lose every occurrence of `realpath`.
 */
export function reasonOf (error: unknown, realpath?: string, shownAs = 'the file'): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  switch (code) {
    case 'ENOENT': return 'no such file'
    case 'EACCES':
    case 'EPERM': return 'permission denied'
    case 'ENOTDIR': return 'a part of the path is not a directory'
    case 'ELOOP': return 'too many symbolic links'
    case 'ENAMETOOLONG': return 'the path is too long'
    case 'EISDIR': return 'not a regular file'
    case 'EMFILE':
    case 'ENFILE': return 'too many open files on the server; try again'
  }
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return `cannot be read (${code})`
  const message = error instanceof Error ? error.message : String(error)
  return realpath === undefined ? message : message.replaceAll(realpath, shownAs)
}

/**
 * Resolves `path` (relative to `dataDir`) to a readable regular file inside it. Refuses, before
 * anything is read, NUL bytes, absolute paths, `..` that climb out, and symbolic links that lead
 * out (the real paths of both are compared).
 */
export async function resolveDataFile (dataDir: string, path: string): Promise<DataFile> {
  if (path.includes('\0') || isAbsolute(path) || win32.isAbsolute(path)) throw outside(path)
  let root: string
  try {
    root = await realpath(dataDir)
  } catch (error) {
    throw unreadable(path, `PARASCAN_DATA_DIR cannot be read: ${reasonOf(error)}`)
  }
  const lexical = resolve(root, path)
  if (lexical === root) throw unreadable(path, 'not a regular file')
  if (!inside(root, lexical)) throw outside(path)
  let real: string
  try {
    real = await realpath(lexical)
  } catch (error) {
    throw unreadable(path, reasonOf(error))
  }
  if (!inside(root, real)) throw outside(path)
  const info = await stat(real).catch((error: unknown) => { throw unreadable(path, reasonOf(error)) })
  if (!info.isFile()) throw unreadable(path, 'not a regular file')
  await access(real, constants.R_OK).catch((error: unknown) => { throw unreadable(path, reasonOf(error)) })
  return { realpath: real, size: info.size, mtimeMs: info.mtimeMs, ino: info.ino, ctimeMs: info.ctimeMs }
}
