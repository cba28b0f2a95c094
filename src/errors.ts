import createError from '@fastify/error'

export interface FieldError {
  /** Where the bad value is, e.g. `source.start` or `pipeline[0].filter`. */
  path: string
  message: string
}

export const ScanValidationError = createError<[string]>('PARASCAN_INVALID_SCAN', 'Invalid scan: %s', 400)
export const PathOutsideDataDirError = createError<[string]>('PARASCAN_PATH_OUTSIDE_DATA_DIR', 'Path %s leads outside DATA_DIR', 400)
export const SourceFileError = createError<[string, string]>('PARASCAN_SOURCE_FILE', 'Cannot read %s: %s', 422)
export const ScanNotFoundError = createError<[string]>('PARASCAN_SCAN_NOT_FOUND', 'Scan %s not found', 404)

/** Attaches the per-field list that problem+json validation errors carry. */
export function withFieldErrors<E extends Error> (error: E, errors: FieldError[]): E & { errors: FieldError[] } {
  return Object.assign(error, { errors })
}
