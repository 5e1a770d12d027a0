/**
 * One error class for the whole harness (stack, runner, load, faults, checkers, history, generators). Codes are a
 * closed table: each carries the CLI's exit status for it and what it means, so callers (the CLI, result.json,
 * reports, CI scripts) can switch on `code` without parsing messages. Every message says what went wrong and what to
 * do next.
 *
 * Exit status (docs/verdicts.md): 64 for bad input (a flag, an argument, a scenario field, an option of the load, a
 * checker or a generator, named in the message); 3 for everything else: the harness failed, so the verdict is
 * unknown (a missing topic, a dead broker, a timeout, a checker that threw).
 *
 * The reference pipeline keeps its own errors (reference-pipeline/): it does not depend on the harness. So does the
 * event codec it shares with the generators (generators/schemas.ts, `SchemaError`): its codes are the reasons the
 * pipeline writes into its dead-letter records.
 */

type ExitStatus = 3 | 64;

export const ERRORS = {
  // --- usage and scenario ---
  USAGE: { exit: 64, meaning: 'a bad command, flag or argument' },
  INVALID_SCENARIO: { exit: 64, meaning: 'the scenario failed validation; the message names the field' },
  // --- stack ---
  PORT_IN_USE: { exit: 3, meaning: 'a port the stack needs is taken by another process' },
  PROVISION_FAILED: { exit: 3, meaning: 'Kafka, Toxiproxy or the schema registry could not be provisioned' },
  MISSING_TOOL: { exit: 3, meaning: 'a tool the harness runs (java, ...) is not installed; see `streamproof doctor`' },
  STACK_START_FAILED: { exit: 3, meaning: 'a stack component did not start, or died during the run' },
  STACK_NOT_RUNNING: { exit: 3, meaning: 'no stack to attach to (`streamproof stack up` first)' },
  STACK_ALREADY_RUNNING: { exit: 3, meaning: 'a stack is already running in this directory' },
  TIMEOUT: { exit: 3, meaning: 'something the harness waited for did not happen in time' },
  REGISTRY_ERROR: { exit: 3, meaning: 'the schema registry answered with an error' },
  KAFKA_PROTOCOL: { exit: 3, meaning: 'a broker answered a Kafka request with an error code' },
  INTERNAL: { exit: 3, meaning: 'an unexpected error in the harness or a dependency' },
  // --- load ---
  LOAD_INVALID_OPTION: {
    exit: 64,
    meaning: 'an option of the load is invalid (the path names it: load.stages[1].rate)',
  },
  LOAD_TOPIC_MISSING: { exit: 3, meaning: 'the topic does not exist or has no partitions on the bootstrap given' },
  LOAD_CONNECT_FAILED: { exit: 3, meaning: 'the producers could not connect or fetch metadata before the schedule' },
  LOAD_SEND_FAILED: { exit: 3, meaning: 'a produce request failed; details say what that means per partition' },
  // --- faults ---
  FAULT_UNKNOWN_TARGET: {
    exit: 3,
    meaning: 'the fault target is not in this stack (a broker id it lacks, a SUT instance not running)',
  },
  FAULT_APPLY_FAILED: { exit: 3, meaning: 'applying a fault failed; whatever part of it took effect was healed' },
  FAULT_HEAL_FAILED: { exit: 3, meaning: 'healing a fault failed; part of it may still be in effect' },
  FAULT_SCHEDULE: { exit: 64, meaning: 'a fault schedule cannot run as given (e.g. at: "random" without a seed)' },
  // --- checkers ---
  CHECKER_THREW: { exit: 3, meaning: 'a checker threw while checking; its verdict is unknown' },
  CHECKER_INVALID_RESULT: { exit: 3, meaning: 'a checker returned something that is not a checker result' },
  CHECKER_DUPLICATE_NAME: { exit: 64, meaning: 'two checkers in one composition share a name' },
  CHECKER_INVALID_OPTION: { exit: 64, meaning: 'a checker option is out of range' },
  SLO_PARSE: { exit: 64, meaning: 'an SLO threshold expression does not parse' },
  SLO_UNKNOWN_METRIC: { exit: 64, meaning: 'an SLO names a metric the harness does not measure' },
  CHECKER_IO: { exit: 3, meaning: 'writing an anomaly file failed' },
  // --- lake ---
  LAKE_READ_FAILED: { exit: 3, meaning: 'DuckDB could not read the committed files of a lake output' },
  // --- contracts ---
  MODEL_INVALID: {
    exit: 64,
    meaning: 'a model module (contract: { model }) is missing, does not load, or does not export a model',
  },
  MODEL_FAILED: { exit: 3, meaning: 'a model threw or returned garbage while computing the expected output' },
  EXPECT_INVALID: {
    exit: 64,
    meaning: 'a lineage expectation module (sut.lineage.expect) is missing, does not load, or exports no function',
  },
  LINEAGE_ID_NOT_FOUND: {
    exit: 3,
    meaning:
      'no output record carries its source id where sut.lineage.id says: the scenario, not the pipeline, is wrong',
  },
  EXPECT_FAILED: {
    exit: 3,
    meaning: 'a lineage expectation function threw or returned something other than a count (an integer >= 0)',
  },
  // --- history ---
  HISTORY_INVALID_JSON: { exit: 3, meaning: 'a JSON history does not have the expected shape or version' },
  HISTORY_INVALID_RECORD: { exit: 3, meaning: 'a history record is malformed (wrong kind, non-finite time, ...)' },
  HISTORY_SEQ_OUT_OF_RANGE: { exit: 3, meaning: 'a sequence number is negative, fractional or above the ceiling' },
  HISTORY_MERGE_MISMATCH: { exit: 3, meaning: 'two history stores built with different settings cannot be merged' },
  HISTORY_IO: { exit: 3, meaning: 'reading or writing a history file failed' },
  // --- generators ---
  'invalid-option': { exit: 64, meaning: 'a generator option is invalid (the path names it: traffic.users)' },
} as const satisfies Record<string, { readonly exit: ExitStatus; readonly meaning: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** Every code, in table order. */
export const errorCodes = Object.keys(ERRORS) as ErrorCode[];

export interface StreamproofErrorJson {
  code: ErrorCode;
  message: string;
  details: Record<string, unknown>;
}

export class StreamproofError extends Error {
  override readonly name = 'StreamproofError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Plain data that serialises to JSON: the path of a bad value, a fault's id, a port, ... */
    readonly details: Record<string, unknown> = {},
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }

  /**
   * An error about one thing: the path of a bad value (`load.stages[1].rate`, `records[17].time`) or the id of a
   * fault. The message starts with it (`load.slice: ...`) and details keep it (`details.path`, `details.faultId`).
   */
  static at(
    code: ErrorCode,
    message: string,
    where: { path?: string; faultId?: string; cause?: unknown; details?: Record<string, unknown> } = {},
  ): StreamproofError {
    const { path, faultId, cause, details } = where;
    const subject = path ?? faultId;
    return new StreamproofError(
      code,
      subject === undefined ? message : `${subject}: ${message}`,
      {
        ...(path === undefined ? {} : { path }),
        ...(faultId === undefined ? {} : { faultId }),
        ...details,
      },
      { cause },
    );
  }

  /** The exit status of this error's code. */
  get exit(): ExitStatus {
    return ERRORS[this.code].exit;
  }

  toJSON(): StreamproofErrorJson {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERRORS, code);
}

/** The exit status of a code as stored (result.json): its table entry's, 3 for a code not in the table. */
export function exitStatusOf(code: string): ExitStatus {
  return isErrorCode(code) ? ERRORS[code].exit : 3;
}

/** Exit code for an error that escaped to the CLI: its code's (64 bad input, 3 harness failure); anything else 3. */
export function exitCodeFor(err: unknown): ExitStatus {
  return err instanceof StreamproofError ? err.exit : 3;
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
