/**
 * Contracts: how a pipeline's outputs relate to its inputs (`copy`, `lineage`, `model`; `attribution` is a model).
 *
 * A run builds one `ContractRun` per output it judges (the output topic, and a lake when the scenario names one).
 * The runner hands it every output record as the observer reads it (`decode`: an `observed` history record, or null
 * to keep the record and judge it in `finish`; a throw makes the record `undecodable`), then, after the drain,
 * `finish` (it may read the input back: what really landed, unknown sends resolved) and runs its `checkers` beside
 * the common ones (order, schema, latency, SLOs). Checkers stay pure functions of the history plus what `finish`
 * gathered; contracts never decide a verdict themselves.
 */
import type { Event } from '../../generators/event.ts';
import type { Checker, ComposedResult } from '../checkers/index.ts';
import type { History } from '../history/index.ts';

/** One output record: a Kafka record of the output topic, or a row of a lake table (`row` set, `value` empty). */
export interface OutputRecord {
  readonly key: string | undefined;
  readonly value: Buffer;
  /** Record headers, first value per name (UTF-8); empty for lake rows. */
  readonly headers: ReadonlyMap<string, Buffer>;
  readonly partition: number;
  readonly offset: number;
  /** When the harness saw it (observer receive time, or a lake row's visibility time), epoch ms. */
  readonly time: number;
  /** A lake row, already decoded by DuckDB (column name -> value). */
  readonly row?: Readonly<Record<string, unknown>>;
}

/** What an output record becomes: the source event's id and, when the output carries them, its seq and send time. */
export interface Sighting {
  readonly eventId: string;
  readonly userSeq?: number | undefined;
  readonly sentAt?: number | undefined;
}

/** One input record read back after the drain (read_committed): what the pipeline really received. */
export interface InputRecord {
  readonly key: string | undefined;
  readonly value: Buffer;
  readonly partition: number;
  readonly offset: number;
  /** The generator's event, undefined when the harness cannot decode the value (a bad event, or not ours). */
  readonly event: Event | undefined;
}

/** Given when a run creates its contracts. */
export interface ContractSetup {
  readonly format: 'json' | 'avro';
  /** The scenario's schema version of a registered schema id (the input's own schemas). */
  versionOf(schemaId: number): 1 | 2 | 3 | undefined;
  /** The registry of the run, for outputs in the Confluent wire format with schemas the harness did not register. */
  readonly registryUrl: string | undefined;
  /** Base directory of relative module paths (the scenario file's directory, else the working directory). */
  readonly baseDir: string;
}

/** Given to `finish`, after the drain. */
export interface ContractFinish {
  readonly history: History;
  /** The input topic as it landed, read once on first call and shared by every contract of the run. */
  input(): Promise<readonly InputRecord[]>;
  /** True when the drain completed (the pipeline consumed everything and its output went quiet). */
  readonly drainComplete: boolean;
  /** The SUT group's committed offset per input partition when the drain ended ({} when it never committed). */
  readonly committed: Readonly<Record<string, number>>;
  readonly outDir: string;
}

export interface ContractRun {
  /** `copy`, `lineage`, `model`, `attribution`. */
  readonly name: string;
  /**
   * One output record -> its sighting (recorded in the history by the runner, with the record's key, partition,
   * offset and time), or null when the contract keeps it for `finish`. A throw: the record is `undecodable`.
   */
  decode(record: OutputRecord): Sighting | null;
  /** Copy only: true once every acked event has been seen (lets the drain end early). */
  readonly nothingMissing?: ((history: History) => boolean) | undefined;
  /** After the drain: read back what the contract needs, record deferred sightings into the history. */
  finish(ctx: ContractFinish): Promise<void>;
  /**
   * After `finish`, for an incomplete drain: the missing events whose input record the SUT group committed past
   * (recorded with the drain: they are lost, the other missing ones unseen). Contracts that judge missing outputs
   * themselves need not say.
   */
  consumedPast?(): readonly string[];
  /** The checkers that judge the contract itself (run beside order, schema, latency and the SLOs). */
  checkers(): Checker[];
  /** Order checking: true when every output record keeps its source user's key (and so its partition). */
  readonly keyAffinity: boolean;
  /** The full anomaly lists for anomalies.json (results carry capped examples). */
  anomalies(history: History, composed: ComposedResult): unknown;
}

/** Records an output record that could not be decoded (`err` says why): kept in the history, never dropped. */
export function recordUndecodable(h: History, r: OutputRecord, err: Error): void {
  h.record({
    kind: 'observed',
    time: r.time,
    eventId: undefined,
    key: r.key,
    partition: r.partition,
    offset: r.offset,
    userSeq: undefined,
    sentAt: undefined,
    raw: (r.row ? Buffer.from(JSON.stringify(r.row, (_k, v) => (typeof v === 'bigint' ? `${v}` : v))) : r.value)
      .subarray(0, 256)
      .toString('base64'),
    decodeError: err.message,
  });
}
