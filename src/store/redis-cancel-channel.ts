import type { Redis } from 'ioredis'

/** Cancel requests of running scans, published to every instance on one Redis channel. */
export class RedisCancelChannel {
  readonly #redis: Redis
  readonly #subscriber: Redis
  readonly #channel: string
  readonly #listeners: Array<(id: string) => void> = []
  #subscribed: Promise<unknown> | undefined

  /** `redis` publishes; `subscriber` is put in subscriber mode on the first listener. */
  constructor (redis: Redis, subscriber: Redis, channel: string) {
    this.#redis = redis
    this.#subscriber = subscriber
    this.#channel = channel
    this.#subscriber.on('message', (from: string, id: string) => {
      if (from === this.#channel) for (const listener of this.#listeners) listener(id)
    })
  }

  async publish (id: string): Promise<void> {
    await this.#redis.publish(this.#channel, id)
  }

  onRequest (listener: (id: string) => void): void {
    this.#listeners.push(listener)
    this.#subscribed ??= this.#subscriber.subscribe(this.#channel)
  }

  /** Resolves once the channel is subscribed (when a listener was added). */
  async ready (): Promise<void> {
    await this.#subscribed
  }

  removeListeners (): void {
    this.#listeners.length = 0
  }

  /** Closes the subscriber connection. */
  async close (): Promise<void> {
    await this.#subscriber.quit()
  }
}
