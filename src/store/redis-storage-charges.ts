import type { Redis } from 'ioredis'
import { luaScript } from './lua-script.js'
import type { StorageCharge, StorageUsage } from './storage-charge.js'

type Scripted = Redis & {
  storageCharge(charges: string, ends: string, prefix: string, unit: string, attempt: string, bytes: string, quota: string, now: string): Promise<[number, number, number]>
}

/**
 * Bytes of stored results per tenant in Redis, shared by every instance: each charge is checked
 * against the quota and booked in one script. Charges end with their scan's keys, found lazily
 * (Redis runs no code when a key expires): see src/store/lua/storage-charge.lua.
 */
export class RedisStorageCharges {
  readonly #redis: Scripted
  readonly #prefix: string

  /** `prefix` ends with ':'. */
  constructor (redis: Redis, prefix: string) {
    this.#redis = redis as Scripted
    this.#prefix = prefix
    redis.defineCommand('storageCharge', { numberOfKeys: 2, lua: luaScript('storage-charge') })
  }

  async charge (tenant: string | undefined, unit: string, attempt: string, bytes: number, quota: number): Promise<StorageCharge> {
    const [charged, used] = await this.#call(tenant, unit, attempt, bytes, quota)
    return { charged: charged === 1, used }
  }

  async usage (tenant: string | undefined): Promise<StorageUsage> {
    const [, used, ends] = await this.#call(tenant, '', '', 0, 0)
    return { used, freesAt: ends < 0 ? null : ends }
  }

  async #call (tenant: string | undefined, unit: string, attempt: string, bytes: number, quota: number): Promise<[number, number, number]> {
    const t = tenant ?? ''
    const [charged, used, ends] = await this.#redis.storageCharge(`${this.#prefix}storage:${t}`, `${this.#prefix}storage-ends:${t}`, this.#prefix,
      unit, attempt, String(bytes), String(quota), String(Date.now()))
    return [Number(charged), Number(used), Number(ends)]
  }
}
