import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Redis } from 'ioredis'

const INCLUDE = /^--- @include "([\w/-]+)"$/gm
const HEADER = /^--\[\[[\s\S]*?\]\]\n/

function luaFile (name: string): string {
  const beside = fileURLToPath(new URL(`./lua/${name}.lua`, import.meta.url))
  const path = existsSync(beside) ? beside : fileURLToPath(new URL(`../../../src/store/lua/${name}.lua`, import.meta.url))
  return readFileSync(path, 'utf8')
}

/**
 * The text of src/store/lua/<name>.lua, found from the source tree or from dist/, with each line
 * `--- @include "<other>"` replaced by the code of lua/<other>.lua (its header left out).
 */
export function luaScript (name: string): string {
  return luaFile(name).replace(INCLUDE, (_, included: string) => luaFile(included).replace(HEADER, '').trimEnd())
}

/** A Lua script with the names of its KEYS and ARGV, in the order of the header of its file. */
export interface LuaCommandSpec<K extends string, A extends string, V extends string, R> {
  /** src/store/lua/<file>.lua */
  readonly file: string
  /** KEYS[1], KEYS[2], … */
  readonly keys: readonly K[]
  /** ARGV[1], ARGV[2], … */
  readonly args: readonly A[]
  /** The list passed after the named arguments (ARGV[args.length + 1..]). */
  readonly rest?: V
  /** Decodes what the script returns. */
  readonly result: (reply: unknown) => R
}

export type LuaCommandInput<K extends string, A extends string, V extends string> =
  { readonly [name in K | A]: string | number } & { readonly [name in V]: readonly string[] }

export type LuaCommand<S> = S extends LuaCommandSpec<infer K, infer A, infer V, infer R>
  ? (input: LuaCommandInput<K, A, V>) => Promise<R>
  : never

/** Names the KEYS and ARGV of a script (their literal types are kept for the command's input). */
export function luaCommand<const K extends string, const A extends string, R, const V extends string = never> (
  spec: LuaCommandSpec<K, A, V, R>
): LuaCommandSpec<K, A, V, R> {
  return spec
}

export type LuaCommands<S> = { [name in keyof S]: LuaCommand<S[name]> }

type AnySpec = LuaCommandSpec<string, string, string, unknown>

/** Defines every script of `specs` on `redis`: each becomes a function of an object with the named KEYS and ARGV. */
export function defineLuaCommands<S extends Record<string, AnySpec>> (redis: Redis, specs: S): LuaCommands<S> {
  const commands: Record<string, (input: Record<string, string | number | readonly string[]>) => Promise<unknown>> = {}
  for (const [key, spec] of Object.entries(specs)) {
    const name = spec.file.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())
    redis.defineCommand(name, { numberOfKeys: spec.keys.length, lua: luaScript(spec.file) })
    const run = (redis as unknown as Record<string, (...args: string[]) => Promise<unknown>>)[name]
    commands[key] = async (input) => spec.result(await run.call(redis,
      ...[...spec.keys, ...spec.args].map((field) => String(input[field])),
      ...(spec.rest === undefined ? [] : input[spec.rest] as readonly string[])))
  }
  return commands as never
}
