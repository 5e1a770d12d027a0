/**
 * Errors of the load driver. Codes are a stable `as const` list; messages name the path of a bad option and say what
 * to do next.
 */
export const LOAD_ERROR_CODES = [
  /** An option of startLoad is invalid (the path names it: `load.stages[1].rate`). */
  'LOAD_INVALID_OPTION',
  /** The topic does not exist or has no partitions on the bootstrap given. */
  'LOAD_TOPIC_MISSING',
  /** The producers could not connect or fetch metadata before the schedule started. */
  'LOAD_CONNECT_FAILED',
] as const;

export type LoadErrorCode = (typeof LOAD_ERROR_CODES)[number];

export class LoadError extends Error {
  override readonly name = 'LoadError';
  constructor(
    readonly code: LoadErrorCode,
    message: string,
    readonly path?: string,
    options: { cause?: unknown } = {},
  ) {
    super(path === undefined ? message : `${path}: ${message}`, options);
  }

  toJSON(): { name: string; code: LoadErrorCode; message: string; path?: string } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.path === undefined ? {} : { path: this.path }),
    };
  }
}
