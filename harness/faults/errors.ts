/**
 * Errors of the fault layer. Codes are a stable `as const` list (the union is derived from it); the error serialises
 * to JSON so a schedule can report it in a result. Scenario mistakes are StreamproofError `INVALID_SCENARIO`
 * (validate.ts); these are what goes wrong while faults run against a real stack.
 */

export const FAULT_ERROR_CODES = [
  /** The target does not exist in this stack (a broker id it does not have, a SUT instance not running). */
  'FAULT_UNKNOWN_TARGET',
  /** Applying a fault failed; whatever part of it had taken effect was healed again. */
  'FAULT_APPLY_FAILED',
  /** Healing a fault failed (some part of it may still be in effect; `healAll` resets everything). */
  'FAULT_HEAL_FAILED',
  /** A schedule cannot run as given (e.g. `at: "random"` without a seed). */
  'FAULT_SCHEDULE',
] as const;

export type FaultErrorCode = (typeof FAULT_ERROR_CODES)[number];

export interface FaultErrorJson {
  readonly name: 'FaultError';
  readonly code: FaultErrorCode;
  readonly message: string;
  readonly faultId?: string;
}

export class FaultError extends Error {
  override readonly name = 'FaultError';
  readonly code: FaultErrorCode;
  readonly faultId: string | undefined;

  constructor(code: FaultErrorCode, message: string, options: { faultId?: string; cause?: unknown } = {}) {
    super(options.faultId === undefined ? message : `${options.faultId}: ${message}`, { cause: options.cause });
    this.code = code;
    this.faultId = options.faultId;
  }

  toJSON(): FaultErrorJson {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.faultId === undefined ? {} : { faultId: this.faultId }),
    };
  }
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
