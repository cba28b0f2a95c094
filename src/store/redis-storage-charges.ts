import type { Redis } from 'ioredis'
import { defineLuaCommands, luaCommand, type LuaCommands } from './lua-script.js'
import { partitionUnit, type StorageCharge, type StorageUsage } from './storage-charge.js'

/** The Lua scripts of RedisStorageCharges (src/store/lua/storage-*.lua), by the names of their KEYS and ARGV. */
export const STORAGE_SCRIPTS = {
  charge: luaCommand({
    file: 'storage-charge',
    keys: ['charges', 'ends'],
    args: ['prefix', 'unit', 'attempt', 'bytes', 'quota', 'now'],
    result: (reply) => (reply as [number, number, number]).map(Number) as [charged: number, used: number, ends: number]
  }),
  drop: luaCommand({ file: 'storage-drop', keys: ['charges', 'ends'], args: [], rest: 'units', result: Number })
}

/**
 * Bytes of stored results per tenant in Redis, shared by every instance: each charge is checked
 * against the quota and booked in one script. Charges end with their scan's keys, found lazily
 * (Redis runs no code when a key expires): see src/store/lua/storage-charge.lua.
 */
export class RedisStorageCharges {
  readonly #scripts: LuaCommands<typeof STORAGE_SCRIPTS>
  readonly #prefix: string

  /** `prefix` ends with ':'. */
  constructor (redis: Redis, prefix: string) {
    this.#scripts = defineLuaCommands(redis, STORAGE_SCRIPTS)
    this.#prefix = prefix
  }

  async charge (tenant: string | undefined, unit: string, attempt: string, bytes: number, quota: number): Promise<StorageCharge> {
    const [charged, used] = await this.#call(tenant, unit, attempt, bytes, quota)
    return { charged: charged === 1, used }
  }

  async usage (tenant: string | undefined): Promise<StorageUsage> {
    const [, used, ends] = await this.#call(tenant, '', '', 0, 0)
    return { used, freesAt: ends < 0 ? null : ends }
  }

  /** The scan `id` (with `partitions` partitions) was deleted: its charges end now. */
  async drop (tenant: string | undefined, id: string, partitions: number): Promise<void> {
    const units = [id, ...Array.from({ length: partitions }, (_, part) => partitionUnit(id, part))]
    for (let from = 0; from < units.length; from += 1000) {
      await this.#scripts.drop({ ...this.#keys(tenant), units: units.slice(from, from + 1000) })
    }
  }

  #keys (tenant: string | undefined): { charges: string, ends: string } {
    const t = tenant ?? ''
    return { charges: `${this.#prefix}storage:${t}`, ends: `${this.#prefix}storage-ends:${t}` }
  }

  async #call (tenant: string | undefined, unit: string, attempt: string, bytes: number, quota: number): Promise<[number, number, number]> {
    return await this.#scripts.charge({ ...this.#keys(tenant), prefix: this.#prefix, unit, attempt, bytes, quota, now: Date.now() })
  }
}
