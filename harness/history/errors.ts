/**
 * Errors of the history layer. Codes are a stable `as const` list (the union type is derived from it) so a CI
 * script or a reporter can branch on `code` without parsing messages; every field serialises to JSON.
 */

export const HISTORY_ERROR_CODES = [
  /** A JSON history (file or object) does not have the expected shape or version. */
  'HISTORY_INVALID_JSON',
  /** A history record is malformed (wrong kind, non-finite time, bad event id on an offer, ...). */
  'HISTORY_INVALID_RECORD',
  /** A sequence number is negative, fractional, or above the configured ceiling. */
  'HISTORY_SEQ_OUT_OF_RANGE',
  /** Two stores built with different settings (histogram precision, caps) cannot be merged. */
  'HISTORY_MERGE_MISMATCH',
  /** Reading or writing a history file failed. */
  'HISTORY_IO',
] as const;

export type HistoryErrorCode = (typeof HISTORY_ERROR_CODES)[number];

export class HistoryError extends Error {
  override readonly name = 'HistoryError';
  readonly code: HistoryErrorCode;
  /** Where the problem is, e.g. `outcomes.producers[2].acked` or `records[17].time`. */
  readonly path: string | undefined;

  constructor(code: HistoryErrorCode, message: string, options: { path?: string; cause?: unknown } = {}) {
    super(options.path === undefined ? message : `${options.path}: ${message}`, { cause: options.cause });
    this.code = code;
    this.path = options.path;
  }

  toJSON(): { name: string; code: HistoryErrorCode; message: string; path?: string } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.path === undefined ? {} : { path: this.path }),
    };
  }
}
