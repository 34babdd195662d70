/**
 * Every error Augur reports to a client or an operator carries a stable code, the HTTP status it
 * maps to and a short `reason` used as the metric label that counts it.
 */
export const ErrorCodes = {
  BODY_TOO_LARGE: { status: 413, reason: 'body_too_large' },
  DECODED_TOO_LARGE: { status: 400, reason: 'decoded_too_large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, reason: 'unsupported_media_type' },
  UNSUPPORTED_ENCODING: { status: 415, reason: 'unsupported_encoding' },
  METHOD_NOT_ALLOWED: { status: 405, reason: 'method_not_allowed' },
  SNAPPY_CORRUPT: { status: 400, reason: 'snappy_corrupt' },
  PROTOBUF_CORRUPT: { status: 400, reason: 'protobuf_corrupt' },
  MISSING_METRIC_NAME: { status: 400, reason: 'missing_metric_name' },
  EMPTY_LABEL_SET: { status: 400, reason: 'empty_label_set' },
  EMPTY_LABEL_NAME: { status: 400, reason: 'empty_label_name' },
  DUPLICATE_LABEL_NAME: { status: 400, reason: 'duplicate_label_name' },
  INVALID_UTF8: { status: 400, reason: 'invalid_utf8' },
  BAD_SYMBOL_REFERENCE: { status: 400, reason: 'bad_symbol_reference' },
  FIRST_SYMBOL_NOT_EMPTY: { status: 400, reason: 'first_symbol_not_empty' },
  ODD_LABEL_REFS: { status: 400, reason: 'odd_label_refs' },
  SAMPLES_AND_HISTOGRAMS: { status: 400, reason: 'samples_and_histograms' },
  TOO_MANY_SERIES: { status: 400, reason: 'too_many_series' },
  TOO_MANY_LABELS: { status: 400, reason: 'too_many_labels' },
  LABEL_TOO_LONG: { status: 400, reason: 'label_too_long' },
  BAD_REQUEST: { status: 400, reason: 'bad_request' },
  OVERLOADED: { status: 503, reason: 'overloaded' },
  CONFIG_INVALID: { status: 0, reason: 'config_invalid' },
  CSV_INVALID: { status: 0, reason: 'csv_invalid' },
  BACKTEST_IO: { status: 0, reason: 'backtest_io' },
} as const satisfies Record<string, { status: number; reason: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

export class AugurError extends Error {
  readonly code: `AUGUR_ERR_${ErrorCode}`;
  readonly statusCode: number;
  readonly reason: string;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'AugurError';
    this.code = `AUGUR_ERR_${code}`;
    this.statusCode = ErrorCodes[code].status;
    this.reason = ErrorCodes[code].reason;
  }
}

export function isAugurError(e: unknown): e is AugurError {
  return e instanceof AugurError;
}
