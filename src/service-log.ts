import type { FastifyBaseLogger } from 'fastify'

/** Where a part of the service reports the errors it survives: the app's logger. */
export type ServiceLog = Pick<FastifyBaseLogger, 'error' | 'warn' | 'debug'>

/** Drops every line: the log of a part built without the app (tests, embedding). */
export const SILENT_LOG: ServiceLog = { error: () => {}, warn: () => {}, debug: () => {} }
