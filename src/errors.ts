import createError from '@fastify/error'

export interface FieldError {
  /** Where the bad value is, e.g. `source.start` or `pipeline[0].filter`. */
  path: string
  message: string
}

export const ScanValidationError = createError<[string]>('PARASCAN_INVALID_SCAN', 'Invalid scan: %s', 400)
export const PathOutsideDataDirError = createError<[string]>('PARASCAN_PATH_OUTSIDE_DATA_DIR', 'Path %s leads outside PARASCAN_DATA_DIR', 400)
export const SourceFileError = createError<[string, string]>('PARASCAN_SOURCE_FILE', 'Cannot read %s: %s', 422)
export const ScanNotFoundError = createError<[string]>('PARASCAN_SCAN_NOT_FOUND', 'Scan %s not found', 404)
export const InvalidConfigError = createError<[string, string]>('PARASCAN_INVALID_ENVIRONMENT', 'Invalid environment variable %s: %s', 500)
export const NumberOutOfRangeError = createError<[string]>('PARASCAN_NUMBER_OUT_OF_RANGE', 'Number out of range: %s', 422)
export const IdempotencyConflictError = createError<[string]>('PARASCAN_IDEMPOTENCY_CONFLICT', 'Idempotency-Key %s was already used with another request body', 422)
export const ScanFinishedError = createError<[string, string]>('PARASCAN_SCAN_FINISHED', 'Scan %s has already finished (%s)', 409)
export const ScanActiveError = createError<[string, string]>('PARASCAN_SCAN_ACTIVE', 'Scan %s is %s; cancel it before deleting it', 409)
export const InvalidCursorError = createError<[string]>('PARASCAN_INVALID_CURSOR', 'Invalid cursor: %s', 400)
export const ResultsRestartedError = createError<[string]>('PARASCAN_RESULTS_RESTARTED', 'Scan %s was restarted on another instance; read its results again from the first page', 409)
export const AttemptSupersededError = createError<[string]>('PARASCAN_ATTEMPT_SUPERSEDED', 'Scan %s was taken over by another instance', 409)
export const ScanNotFinishedError = createError<[string, string]>('PARASCAN_SCAN_NOT_FINISHED', 'Scan %s is %s: NDJSON holds every result of a finished scan; read pages while it runs', 409)
export const ResultsGoneError = createError<[string, number, number]>('PARASCAN_RESULTS_GONE', 'Results of scan %s went away while they were sent (%d of %d sent): it was deleted or expired', 410)
export const ServiceUnavailableError = createError<[string]>('PARASCAN_UNAVAILABLE', 'Service unavailable: %s', 503)
export const LimitExceededError = createError<[string]>('PARASCAN_LIMIT_EXCEEDED', 'Scan over a limit of this service: %s', 400)
export const TooManyQueuedScansError = createError<[string]>('PARASCAN_TOO_MANY_QUEUED', 'Too many scans queued: %s', 429)
export const UnauthorizedError = createError<[string]>('PARASCAN_UNAUTHORIZED', 'Unauthorized: %s', 401)
export const RateLimitedError = createError<[string]>('PARASCAN_RATE_LIMITED', 'Too many requests: %s', 429)
export const ScanLostError = createError<[string]>('PARASCAN_SCAN_LOST', '%s', 500)
export const ScanTimeoutError = createError<[string]>('PARASCAN_SCAN_TIMEOUT', 'The scan ran longer than its time limit of %s', 500)

/** Attaches response headers (e.g. Retry-After, WWW-Authenticate) that the error handler sends with the problem. */
export function withHeaders<E extends Error> (error: E, headers: Record<string, string>): E & { headers: Record<string, string> } {
  return Object.assign(error, { headers })
}

/** Attaches the per-field list that problem+json validation errors carry. */
export function withFieldErrors<E extends Error> (error: E, errors: FieldError[]): E & { errors: FieldError[] } {
  return Object.assign(error, { errors })
}

export const ValueTooLargeError = createError<[string, string, number, string]>('PARASCAN_VALUE_TOO_LARGE', '%s: %s is over %d bytes (%s)', 422)
export const InvalidEncodingError = createError<[string, number, string]>('PARASCAN_INVALID_ENCODING', '%s: not valid UTF-8 at byte %d of the file (bytes %s)', 422)
export const TooManyGroupsError = createError<[number]>('PARASCAN_TOO_MANY_GROUPS', 'aggregate.group_by: more than %d groups (PARASCAN_MAX_GROUPS)', 422)
export const ResultsTooLargeError = createError<[number]>('PARASCAN_RESULTS_TOO_LARGE', 'The scan\'s results passed %d bytes (PARASCAN_MAX_SCAN_RESULT_BYTES)', 422)
export const StorageQuotaExceededError = createError<[string]>('PARASCAN_STORAGE_QUOTA_EXCEEDED', 'Storage quota of the tenant exceeded: %s', 429)
export const UnsupportedMediaTypeError = createError<[string]>('PARASCAN_UNSUPPORTED_MEDIA_TYPE', '%s', 415)
export const InvalidRequestError = createError<[string]>('PARASCAN_INVALID_REQUEST', 'Invalid request %s', 400)
export const BadRequestError = createError<[string]>('PARASCAN_BAD_REQUEST', '%s', 400)
export const MalformedJsonError = createError<[string]>('PARASCAN_MALFORMED_JSON', '%s', 400)
export const NotFoundError = createError<[string]>('PARASCAN_NOT_FOUND', '%s', 404)
export const RequestTimeoutError = createError<[string]>('PARASCAN_REQUEST_TIMEOUT', '%s', 408)
export const BodyTooLargeError = createError<[string]>('PARASCAN_BODY_TOO_LARGE', '%s', 413)
export const UrlTooLongError = createError<[string]>('PARASCAN_URL_TOO_LONG', '%s', 414)
export const HeadersTooLargeError = createError('PARASCAN_HEADERS_TOO_LARGE', 'The request line and headers are larger than the server accepts', 431)
export const ExpectationFailedError = createError<[string]>('PARASCAN_EXPECTATION_FAILED', 'Expect: %s is not supported; send the request without it (or with 100-continue)', 417)
export const ClientError = createError<[string]>('PARASCAN_CLIENT_ERROR', '%s', 400)
export const InternalError = createError('PARASCAN_INTERNAL', 'Internal server error', 500)
export const ShuttingDownError = createError('PARASCAN_SHUTTING_DOWN', 'This instance is shutting down; send the request again (another instance, or this one once it is back)', 503)
export const TooManyConnectionsError = createError<[number]>('PARASCAN_TOO_MANY_CONNECTIONS', 'This instance holds its most connections (%d, PARASCAN_MAX_CONNECTIONS); retry shortly', 503)
export const TooManyStatusWaitersError = createError<[number]>('PARASCAN_TOO_MANY_WAITERS', 'Too many status requests are waiting on this instance (%d, PARASCAN_MAX_STATUS_WAITERS): ask without wait, or later', 503)
export const AdminError = createError<[string]>('PARASCAN_ADMIN_ERROR', 'Queue dashboard: %s', 500)

/** Errors a scan's status shows in `error.code` without an HTTP answer of their own. */
export const ScanCancelledError = createError<[string]>('PARASCAN_SCAN_CANCELLED', 'Cancelled %s', 499)
export const InstanceCrashedError = createError<[string, string]>('PARASCAN_INSTANCE_CRASHED', 'The instance running this scan died %s while it ran; it is not run again, so that it cannot stop another instance (%s)', 500)
export const ScanFailedError = createError<[string]>('PARASCAN_SCAN_FAILED', '%s', 500)

/** The `{ code, message }` a scan's status shows for a catalogue error. */
export function scanError (error: { code: string, message: string }): { code: string, message: string } {
  return { code: error.code, message: error.message }
}
