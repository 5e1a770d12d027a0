/**
 * Errors of the attribution model. Codes are a stable `as const` list (the union type is derived from it) so the
 * attributor, the checker and CI scripts can branch on `code` without parsing messages; every field serialises to
 * JSON. Bad *events* are not errors: they are data (`Rejection`, see `types.ts`), because a stream processor must
 * dead-letter them and keep going. Errors are for the caller's own mistakes: bad options, a corrupt snapshot.
 */

export const MODEL_ERROR_CODES = [
  /** An attribution option is unknown, of the wrong type or out of range; `path` names it (`options.lookbackMs`). */
  'MODEL_INVALID_OPTION',
  /** A serialised user state (changelog value) is not valid JSON, has an unknown version, or is malformed. */
  'MODEL_INVALID_STATE',
] as const;

export type ModelErrorCode = (typeof MODEL_ERROR_CODES)[number];

export class AttributionModelError extends Error {
  override readonly name = 'AttributionModelError';
  readonly code: ModelErrorCode;
  /** Where the problem is, e.g. `options.touchTypes[1]` or `state.k[3][5]`. */
  readonly path: string | undefined;

  constructor(code: ModelErrorCode, message: string, options: { path?: string; cause?: unknown } = {}) {
    super(options.path === undefined ? message : `${options.path}: ${message}`, { cause: options.cause });
    this.code = code;
    this.path = options.path;
  }

  toJSON(): { name: string; code: ModelErrorCode; message: string; path?: string } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.path === undefined ? {} : { path: this.path }),
    };
  }
}
