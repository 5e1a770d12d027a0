/**
 * One error class for the whole harness. Codes are a closed list so callers (CLI exit codes, reports) can switch on
 * them; every message says what went wrong and what to do next.
 */
export const errorCodes = [
  'USAGE', // bad flag or argument: exit 64
  'INVALID_SCENARIO', // scenario failed validation: exit 64
  'PORT_IN_USE',
  'PROVISION_FAILED',
  'MISSING_TOOL',
  'STACK_START_FAILED',
  'STACK_NOT_RUNNING',
  'STACK_ALREADY_RUNNING',
  'TIMEOUT',
  'REGISTRY_ERROR',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export class StreamproofError extends Error {
  override readonly name = 'StreamproofError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** Exit code for an error that escaped to the CLI: usage problems are 64, anything else means the harness failed. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof StreamproofError && (err.code === 'USAGE' || err.code === 'INVALID_SCENARIO')) return 64;
  return 3;
}
