/** A pipeline step as it travels to the worker threads. */
export type StepParams =
  | { kind: 'filter', expr: string }
  | { kind: 'map', expr: string }
  | { kind: 'processor', name: string, params: unknown, /** File URL of a plug-in module; absent for built-ins. */ module?: string }
