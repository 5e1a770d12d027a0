/**
 * The history record: the one shape every part of a run writes and every checker (indirectly) reads.
 *
 * Model (after Jepsen): a run is an append-only sequence of records, each stamped with `time`, the wall-clock
 * milliseconds (`Date.now()`-like, fractions allowed) at which the harness learned the fact.
 *
 * - `offered`: the load driver handed event `eventId` to its producer client. Events are offered in order of
 *   (producer, seq); `sentAt` is the *intended* send time of the open-model schedule, so latencies measured from it
 *   include any time the driver itself fell behind (no coordinated omission).
 * - `outcome`: the single outcome of an offer. `acked` (the broker acknowledged; `time` is the ack time),
 *   `failed` (definitely not written, e.g. a non-retriable error), `unknown` (timed out or the client died: the
 *   write may or may not have landed, Jepsen's `:info`).
 * - `observed`: one record read from the output topic with `isolation.level=read_committed`. `eventId` is
 *   `undefined` when the value could not be decoded; then `raw` carries (a prefix of) the bytes as base64.
 * - `fault`: a fault's real start or heal, as the nemesis saw it happen (not as scheduled).
 * - `drain`: the harness stopped reading the output. `complete` is false when the drain timed out before the
 *   output went quiet, in which case "never seen" does not yet mean "lost".
 *
 * Event ids are `${producer}-${seq}`: `producer` a small non-negative integer, `seq` a per-producer sequence from 0.
 * That shape is what lets the stores keep one bit per event instead of one string per event.
 */

export const OUTCOMES = ['acked', 'failed', 'unknown'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface OfferedRecord {
  readonly kind: 'offered';
  /** When the driver handed the event to the client (ms). */
  readonly time: number;
  readonly eventId: string;
  /** The Kafka key. */
  readonly userId: string;
  /** Strictly increasing per user in offer order. */
  readonly userSeq: number;
  /** Intended send time of the open-model schedule (ms). */
  readonly sentAt: number;
  /** A bad event (`events.bad`): the pipeline must refuse it (dead-letter it), never output it. */
  readonly bad?: boolean;
}

export interface OutcomeRecord {
  readonly kind: 'outcome';
  /** Ack time for `acked`; the time the failure or timeout was decided otherwise (ms). */
  readonly time: number;
  readonly eventId: string;
  readonly outcome: Outcome;
  /** The intended send time of the event, repeated here so ack latency needs no lookup (ms). */
  readonly sentAt: number;
  /** The client's error message for `failed` / `unknown`, for humans. */
  readonly error?: string | undefined;
}

export interface ObservedRecord {
  readonly kind: 'observed';
  /** When the harness's read_committed consumer received the record (ms). */
  readonly time: number;
  /** `undefined` when the value was undecodable. */
  readonly eventId: string | undefined;
  /** The record key (the user id), `undefined` for a null key. */
  readonly key: string | undefined;
  readonly partition: number;
  readonly offset: number;
  /** From the decoded value; `undefined` when undecodable. */
  readonly userSeq: number | undefined;
  /** From the decoded value (the copy contract carries `sent_at` through); enables end-to-end latency. */
  readonly sentAt: number | undefined;
  /** Base64 of (a prefix of) the undecodable bytes. */
  readonly raw?: string | undefined;
  /** Why decoding failed, for humans. */
  readonly decodeError?: string | undefined;
}

export const FAULT_PHASES = ['start', 'heal'] as const;
export type FaultPhase = (typeof FAULT_PHASES)[number];

export interface FaultRecord {
  readonly kind: 'fault';
  /** When the fault really took effect (`start`) or was really undone (`heal`), ms. */
  readonly time: number;
  readonly phase: FaultPhase;
  /** Pairs a start with its heal; unique within a run (e.g. `faults[2]`). */
  readonly faultId: string;
  /** The fault's kind, e.g. `latency`, `partition`, `kill`. */
  readonly fault: string;
  /** What it hit, e.g. `broker-1`, `sut`; a role target with the broker it resolved to: `leader:events/0 → broker:2`. */
  readonly target?: string | undefined;
  /** The fault's own account of what it did (a schema upgrade: versions, schema id, the registry's verdict). */
  readonly detail?: FaultRecordDetail | undefined;
}

/** `summary` is one line for people; the rest is the fault's structured account, kept as given. */
export type FaultRecordDetail = { readonly summary: string } & Readonly<Record<string, unknown>>;

export interface DrainRecord {
  readonly kind: 'drain';
  readonly time: number;
  /**
   * True when the pipeline was waited for until it had consumed everything (its committed offsets at the input's
   * end, or, for a pipeline that commits nothing, its output quiet) and its output had gone quiet.
   */
  readonly complete: boolean;
  /**
   * Only for an incomplete drain: acked events not seen in the output whose input record the pipeline has committed
   * past. Those are lost; the other missing events are unseen (their fate is unknown).
   */
  readonly consumed?: readonly string[];
}

export type HistoryRecord = OfferedRecord | OutcomeRecord | ObservedRecord | FaultRecord | DrainRecord;
export type HistoryRecordKind = HistoryRecord['kind'];

/** Largest producer number an event id may carry; producers are a handful of load workers. */
export const MAX_PRODUCER = 0xffff;
/** Largest seq an event id may carry (bit operations stay within 31-bit signed integers). */
export const MAX_EVENT_SEQ = 0x7fffffff;

export interface EventRef {
  readonly producer: number;
  readonly seq: number;
}

export function formatEventId(producer: number, seq: number): string {
  return `${producer}-${seq}`;
}

/**
 * Parses `${producer}-${seq}`, strictly: decimal digits only, no leading zeros (so every event has exactly one
 * spelling and `"1-01"` cannot alias `"1-1"`), producer <= MAX_PRODUCER, seq <= MAX_EVENT_SEQ.
 * Returns `undefined` for anything else. A hand loop: this runs once per observed record.
 */
export function parseEventId(id: string): EventRef | undefined {
  const n = id.length;
  let i = 0;
  let producer = 0;
  const p0 = i;
  while (i < n) {
    const c = id.charCodeAt(i);
    if (c < 48 || c > 57) break;
    producer = producer * 10 + (c - 48);
    if (producer > MAX_PRODUCER) return undefined;
    i++;
  }
  if (i === p0 || (i - p0 > 1 && id.charCodeAt(p0) === 48)) return undefined;
  if (i >= n || id.charCodeAt(i) !== 45) return undefined;
  i++;
  const s0 = i;
  let seq = 0;
  while (i < n) {
    const c = id.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
    seq = seq * 10 + (c - 48);
    if (seq > MAX_EVENT_SEQ) return undefined;
    i++;
  }
  if (i === s0 || (i - s0 > 1 && id.charCodeAt(s0) === 48)) return undefined;
  return { producer, seq };
}
