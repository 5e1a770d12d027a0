/**
 * Errors of the checkers. Codes are a stable `as const` list with the union derived from it; the error serialises
 * to JSON, so a checker that throws becomes `{ valid: 'unknown', error: { code, message } }` in the result.
 */

export const CHECKER_ERROR_CODES = [
  /** A checker threw while checking; its verdict is unknown. */
  'CHECKER_THREW',
  /** A checker returned something that is not `{ valid: true | false | 'unknown', anomalyTypes: [...] }`. */
  'CHECKER_INVALID_RESULT',
  /** Two checkers in one composition share a name. */
  'CHECKER_DUPLICATE_NAME',
  /** A checker option is out of range. */
  'CHECKER_INVALID_OPTION',
  /** An SLO threshold expression does not parse. */
  'SLO_PARSE',
  /** An SLO names a metric this harness does not measure. */
  'SLO_UNKNOWN_METRIC',
  /** Writing an anomaly file failed. */
  'CHECKER_IO',
] as const;

export type CheckerErrorCode = (typeof CHECKER_ERROR_CODES)[number];

export interface CheckerErrorJson {
  readonly name: 'CheckerError';
  readonly code: CheckerErrorCode;
  readonly message: string;
  readonly path?: string;
}

export class CheckerError extends Error {
  override readonly name = 'CheckerError';
  readonly code: CheckerErrorCode;
  readonly path: string | undefined;

  constructor(code: CheckerErrorCode, message: string, options: { path?: string; cause?: unknown } = {}) {
    super(options.path === undefined ? message : `${options.path}: ${message}`, { cause: options.cause });
    this.code = code;
    this.path = options.path;
  }

  toJSON(): CheckerErrorJson {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.path === undefined ? {} : { path: this.path }),
    };
  }
}
