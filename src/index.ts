export type * from './parallel/types.js'
