import createError from '@fastify/error'

/** Errors of the command-line client; `statusCode` is the HTTP status where the service sent one. */
export const ApiProblemError = createError<[string, string]>('PARASCAN_CLI_API_PROBLEM', '%s: %s')
export const UnexpectedResponseError = createError<[number, string, string]>('PARASCAN_CLI_UNEXPECTED_RESPONSE', 'HTTP %s from %s: %s')
export const ConnectionRefusedError = createError<[string]>('PARASCAN_CLI_CONNECTION_REFUSED', 'Cannot connect to %s: connection refused (is the service running? set --url or PARASCAN_URL)')
export const ConnectionFailedError = createError<[string, string]>('PARASCAN_CLI_CONNECTION_FAILED', 'Cannot reach %s: %s')
export const UsageError = createError<[string]>('PARASCAN_CLI_USAGE', '%s')
export const ScanFileError = createError<[string, string]>('PARASCAN_CLI_SCAN_FILE', 'Cannot use scan file %s: %s')
export const OutputFileError = createError<[string, string]>('PARASCAN_CLI_OUTPUT_FILE', 'Cannot write %s: %s')
export const ScanFailedError = createError<[string, string, string]>('PARASCAN_CLI_SCAN_FAILED', 'Scan %s failed: %s: %s')
export const ResultsCutShortError = createError<[string, number, number, string]>('PARASCAN_CLI_RESULTS_CUT_SHORT', 'Results of scan %s stopped after %d of %d: %s')
export const ScanCancelledError = createError<[string, string]>('PARASCAN_CLI_SCAN_CANCELLED', 'Scan %s was cancelled: %s')

/** Process exit codes; any other error exits with 1. */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  scanFailed: 3,
  scanCancelled: 4,
  unreachable: 5,
  interrupted: 130
} as const

export const EXIT_CODES: Readonly<Record<string, number>> = {
  PARASCAN_CLI_USAGE: EXIT.usage,
  PARASCAN_CLI_SCAN_FAILED: EXIT.scanFailed,
  PARASCAN_CLI_SCAN_CANCELLED: EXIT.scanCancelled,
  PARASCAN_CLI_CONNECTION_REFUSED: EXIT.unreachable,
  PARASCAN_CLI_CONNECTION_FAILED: EXIT.unreachable
}
