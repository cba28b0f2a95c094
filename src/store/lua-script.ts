import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The text of src/store/lua/<name>.lua, found from the source tree or from dist/. */
export function luaScript (name: string): string {
  const beside = fileURLToPath(new URL(`./lua/${name}.lua`, import.meta.url))
  const path = existsSync(beside) ? beside : fileURLToPath(new URL(`../../../src/store/lua/${name}.lua`, import.meta.url))
  return readFileSync(path, 'utf8')
}
