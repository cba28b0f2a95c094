import type { WriteStream } from 'node:fs'
import { open, rename, rm } from 'node:fs/promises'
import { OutputFileError } from './errors.js'

/**
 * NDJSON lines to stdout or to a file. A file is written as `<path>.partial` and renamed
 * by commit(), so that an interrupted download never looks complete.
 */
export class NdjsonOutput {
  readonly #path: string | undefined
  #stream: NodeJS.WritableStream
  #error: Error | undefined
  #lines = 0

  private constructor (path: string | undefined, stream: NodeJS.WritableStream) {
    this.#path = path
    this.#stream = stream
  }

  /** Output to `path`, or to stdout when it is undefined. */
  static async open (path?: string): Promise<NdjsonOutput> {
    if (path === undefined) return new NdjsonOutput(undefined, process.stdout)
    const output = new NdjsonOutput(path, process.stdout)
    output.#stream = await output.#openPartial()
    return output
  }

  get lines (): number {
    return this.#lines
  }

  async write (items: unknown[]): Promise<void> {
    if (items.length === 0) return
    let text = ''
    for (const item of items) text += JSON.stringify(item) + '\n'
    this.#lines += items.length
    await this.#write(text)
  }

  /** Writes NDJSON text as it came (any cut between lines), counting its lines. */
  async writeChunk (chunk: Uint8Array): Promise<void> {
    if (chunk.length === 0) return
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.#lines++
    await this.#write(chunk)
  }

  async #write (data: string | Uint8Array): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      if (this.#error !== undefined) return reject(this.#error)
      if (this.#stream.write(data)) return resolve()
      const onDrain = (): void => { this.#stream.off('error', onError); resolve() }
      const onError = (error: Error): void => { this.#stream.off('drain', onDrain); reject(this.#wrap(error)) }
      this.#stream.once('drain', onDrain)
      this.#stream.once('error', onError)
    })
  }

  async commit (): Promise<void> {
    if (this.#path === undefined) return
    await this.#close()
    try {
      await rename(this.#partialPath(), this.#path)
    } catch (error) {
      throw this.#wrap(error as Error)
    }
  }

  /** Closes a file as `<path>.partial` (the results of a failed or cancelled scan); returns where they are. */
  async keepPartial (): Promise<string> {
    if (this.#path === undefined) return 'standard output'
    await this.#close()
    return this.#partialPath()
  }

  async discard (): Promise<void> {
    if (this.#path === undefined) return
    // Discarding after an error: that error is the one reported, and the partial file goes either way.
    await this.#close().catch(() => {})
    await rm(this.#partialPath(), { force: true })
  }

  #partialPath (): string {
    return `${this.#path}.partial`
  }

  #wrap (error: Error): Error {
    return new OutputFileError(this.#path ?? 'stdout', error.message)
  }

  async #openPartial (): Promise<WriteStream> {
    let handle
    try {
      handle = await open(this.#partialPath(), 'w')
    } catch (error) {
      throw this.#wrap(error as Error)
    }
    const stream = handle.createWriteStream()
    this.#error = undefined
    stream.on('error', (error) => { this.#error ??= this.#wrap(error) })
    return stream
  }

  async #close (): Promise<void> {
    const stream = this.#stream as WriteStream
    if (stream.closed || stream.destroyed) {
      if (this.#error !== undefined) throw this.#error
      return
    }
    await new Promise<void>((resolve, reject) => {
      stream.end(() => this.#error === undefined ? resolve() : reject(this.#error))
    })
  }
}
