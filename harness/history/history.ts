/**
 * History: the compact, mergeable, serialisable record of one run, built by feeding it HistoryRecords.
 *
 * Model: a Jepsen history is the full list of operations; a 10M-event load run cannot keep that, so `record()`
 * folds each record into stores that keep exactly what the checkers need:
 * - `outcomes` (OutcomeStore): offered / acked / failed / unknown, 4 bits per event;
 * - `observations` (ObservationStore): sightings per event, 2 bits per event, plus unexpected and undecodable;
 * - `order` (OrderStore): per (partition, user) last user_seq and the violations found while reading;
 * - `latency` (LatencyStore): HDR histograms (µs) and per-second series;
 * - `faults`: the real fault windows; `drain`: whether the output was read to quiescence.
 * The raw records are not kept: checkers are pure functions of these stores.
 *
 * Records may arrive from several workers: build one History per worker and `merge` them. Merging is exact for
 * every store (order: under the one-reader-per-partition assumption of OrderStore). `toJSON` / `fromJSON`
 * round-trip everything, so a history saved by `streamproof run` can be checked later by `streamproof report`.
 */

import { StreamproofError } from '../util/errors.ts';
import { LatencyStore } from './latency-store.ts';
import { ObservationStore, type ObservationStoreOptions } from './observation-store.ts';
import { OrderStore, type OrderStoreOptions } from './order-store.ts';
import { OutcomeStore } from './outcome-store.ts';
import { type FaultRecordDetail, type HistoryRecord, OUTCOMES, parseEventId } from './record.ts';

export const HISTORY_FORMAT = 'streamproof.history' as const;
export const HISTORY_VERSION = 1 as const;

/** A fault as it really happened; `healedAt` is undefined when no heal was recorded. */
export interface FaultWindow {
  readonly faultId: string;
  readonly fault: string;
  readonly target: string | undefined;
  readonly startedAt: number;
  readonly healedAt: number | undefined;
  /** The fault's account of what it did, from its records (the latest one that had one). */
  readonly detail?: FaultRecordDetail;
}

export interface DrainState {
  readonly time: number;
  readonly complete: boolean;
  /** Incomplete drains only: missing events the pipeline committed past (lost, not unseen). See DrainRecord. */
  readonly consumed?: readonly string[];
}

export interface HistoryOptions {
  readonly observations?: ObservationStoreOptions;
  readonly order?: OrderStoreOptions;
}

export interface HistoryJson {
  readonly format: typeof HISTORY_FORMAT;
  readonly version: typeof HISTORY_VERSION;
  readonly firstTime: number | null;
  readonly lastTime: number | null;
  readonly drain: DrainState | null;
  readonly faults: readonly FaultWindow[];
  readonly outcomes: unknown;
  readonly observations: unknown;
  readonly order: unknown;
  readonly latency: unknown;
}

export class History {
  readonly outcomes: OutcomeStore;
  readonly observations: ObservationStore;
  readonly order: OrderStore;
  readonly latency: LatencyStore;
  #faults = new Map<string, FaultWindow>();
  #drain: DrainState | undefined;
  #firstTime: number | undefined;
  #lastTime: number | undefined;

  constructor(options: HistoryOptions = {}) {
    this.outcomes = new OutcomeStore();
    this.observations = new ObservationStore(options.observations);
    this.order = new OrderStore(options.order);
    this.latency = new LatencyStore();
  }

  /** Folds one record into the stores. Throws StreamproofError `HISTORY_INVALID_RECORD` on a malformed record. */
  record(r: HistoryRecord): void {
    if (!Number.isFinite(r.time)) throw invalid(r, 'time must be a finite number of ms');
    if (this.#firstTime === undefined || r.time < this.#firstTime) this.#firstTime = r.time;
    if (this.#lastTime === undefined || r.time > this.#lastTime) this.#lastTime = r.time;
    switch (r.kind) {
      case 'offered': {
        const ref = parseEventId(r.eventId);
        // Our own driver wrote this id: a bad one is a harness bug, not a pipeline anomaly.
        if (ref === undefined || !this.observations.accepts(ref.seq)) throw invalid(r, `bad event id "${r.eventId}"`);
        if (!Number.isFinite(r.sentAt)) throw invalid(r, 'sentAt must be a finite number of ms');
        this.outcomes.offer(ref.producer, ref.seq, r.bad === true);
        this.latency.offered(r.time);
        return;
      }
      case 'outcome': {
        const ref = parseEventId(r.eventId);
        if (ref === undefined || !this.observations.accepts(ref.seq)) throw invalid(r, `bad event id "${r.eventId}"`);
        if (!OUTCOMES.includes(r.outcome)) throw invalid(r, `outcome must be one of ${OUTCOMES.join(', ')}`);
        if (!Number.isFinite(r.sentAt)) throw invalid(r, 'sentAt must be a finite number of ms');
        if (this.outcomes.resolve(ref.producer, ref.seq, r.outcome)) this.latency.outcome(r.outcome, r.time, r.sentAt);
        return;
      }
      case 'observed': {
        if (r.eventId === undefined) {
          this.observations.observeUndecodable({
            partition: r.partition,
            offset: r.offset,
            time: r.time,
            key: r.key,
            raw: r.raw,
            decodeError: r.decodeError,
          });
          this.latency.observed(r.time, undefined, false);
          return;
        }
        this.latency.observed(r.time, r.sentAt, true);
        const ref = parseEventId(r.eventId);
        if (ref === undefined || !this.observations.accepts(ref.seq)) {
          this.observations.observeUnexpectedId(r.eventId);
          return;
        }
        const n = this.observations.observe(ref.producer, ref.seq);
        if (n !== 1 || r.userSeq === undefined) return;
        if (r.key === undefined) this.order.observeUnkeyed();
        else this.order.observe(r.partition, r.key, r.userSeq, r.eventId, r.offset, r.time);
        return;
      }
      case 'fault': {
        const prev = this.#faults.get(r.faultId);
        if (r.phase === 'start') {
          this.#faults.set(r.faultId, {
            faultId: r.faultId,
            fault: r.fault,
            target: r.target,
            startedAt: r.time,
            healedAt: prev?.healedAt,
            ...detailOf(r.detail ?? prev?.detail),
          });
        } else {
          this.#faults.set(r.faultId, {
            faultId: r.faultId,
            fault: prev?.fault ?? r.fault,
            target: prev?.target ?? r.target,
            // A heal without a recorded start: the window is unknown, so it is taken as an instant.
            startedAt: prev?.startedAt ?? r.time,
            healedAt: r.time,
            ...detailOf(r.detail ?? prev?.detail),
          });
        }
        return;
      }
      case 'drain':
        this.#drain = {
          time: r.time,
          complete: r.complete,
          ...(r.consumed?.length ? { consumed: [...r.consumed] } : {}),
        };
        return;
      default:
        throw invalid(r as HistoryRecord, `unknown record kind ${JSON.stringify((r as { kind: unknown }).kind)}`);
    }
  }

  /** Fault windows by start time. */
  get faults(): FaultWindow[] {
    return [...this.#faults.values()].sort((a, b) => a.startedAt - b.startedAt || cmp(a.faultId, b.faultId));
  }

  /** Undefined when no drain was recorded (the run stopped before draining). */
  get drain(): DrainState | undefined {
    return this.#drain;
  }

  get firstTime(): number | undefined {
    return this.#firstTime;
  }

  get lastTime(): number | undefined {
    return this.#lastTime;
  }

  /** Bytes held by the per-event bitsets (the part that grows with event count). */
  get bitsetBytes(): number {
    return this.outcomes.byteLength + this.observations.byteLength;
  }

  /**
   * In-place merge of another worker's history. Drain: complete only if every worker that drained completed,
   * at the latest time. Faults with the same id are one fault (earliest start, latest heal).
   */
  merge(other: History): this {
    this.outcomes.merge(other.outcomes);
    this.observations.merge(other.observations);
    this.order.merge(other.order);
    this.latency.merge(other.latency);
    for (const f of other.#faults.values()) {
      const mine = this.#faults.get(f.faultId);
      this.#faults.set(
        f.faultId,
        mine === undefined
          ? f
          : {
              ...mine,
              startedAt: Math.min(mine.startedAt, f.startedAt),
              healedAt: maxDefined(mine.healedAt, f.healedAt),
            },
      );
    }
    if (other.#drain !== undefined) {
      this.#drain = this.#drain === undefined ? other.#drain : mergeDrains(this.#drain, other.#drain);
    }
    if (other.#firstTime !== undefined) this.#firstTime = Math.min(this.#firstTime ?? Infinity, other.#firstTime);
    if (other.#lastTime !== undefined) this.#lastTime = Math.max(this.#lastTime ?? -Infinity, other.#lastTime);
    return this;
  }

  toJSON(): HistoryJson {
    return {
      format: HISTORY_FORMAT,
      version: HISTORY_VERSION,
      firstTime: this.#firstTime ?? null,
      lastTime: this.#lastTime ?? null,
      drain: this.#drain ?? null,
      faults: this.faults.map((f) => ({ ...f, target: f.target ?? undefined })),
      outcomes: this.outcomes.toJSON(),
      observations: this.observations.toJSON(),
      order: this.order.toJSON(),
      latency: this.latency.toJSON(),
    };
  }

  static fromJSON(json: unknown): History {
    const j = json as Record<string, unknown> | null;
    if (j === null || typeof j !== 'object' || j.format !== HISTORY_FORMAT) {
      throw StreamproofError.at('HISTORY_INVALID_JSON', `expected format "${HISTORY_FORMAT}"`, { path: 'format' });
    }
    if (j.version !== HISTORY_VERSION) {
      throw StreamproofError.at(
        'HISTORY_INVALID_JSON',
        `unsupported version ${JSON.stringify(j.version)} (this streamproof reads version ${HISTORY_VERSION})`,
        { path: 'version' },
      );
    }
    const h = new History();
    const replace = h as unknown as {
      outcomes: OutcomeStore;
      observations: ObservationStore;
      order: OrderStore;
      latency: LatencyStore;
    };
    replace.outcomes = OutcomeStore.fromJSON(j.outcomes, 'outcomes');
    replace.observations = ObservationStore.fromJSON(j.observations, 'observations');
    replace.order = OrderStore.fromJSON(j.order, 'order');
    replace.latency = LatencyStore.fromJSON(j.latency, 'latency');
    h.#firstTime = optionalNumber(j.firstTime, 'firstTime');
    h.#lastTime = optionalNumber(j.lastTime, 'lastTime');
    if (j.drain !== null && j.drain !== undefined) {
      const d = j.drain as Record<string, unknown>;
      const consumed = d.consumed;
      if (
        typeof d.time !== 'number' ||
        typeof d.complete !== 'boolean' ||
        (consumed !== undefined && (!Array.isArray(consumed) || consumed.some((x) => typeof x !== 'string')))
      ) {
        throw StreamproofError.at(
          'HISTORY_INVALID_JSON',
          'expected { time: number, complete: boolean, consumed?: string[] }',
          { path: 'drain' },
        );
      }
      h.#drain = {
        time: d.time,
        complete: d.complete,
        ...(Array.isArray(consumed) && consumed.length ? { consumed: consumed as string[] } : {}),
      };
    }
    if (!Array.isArray(j.faults))
      throw StreamproofError.at('HISTORY_INVALID_JSON', 'expected an array', { path: 'faults' });
    j.faults.forEach((f: unknown, i: number) => {
      const w = (f ?? {}) as Record<string, unknown>;
      if (typeof w.faultId !== 'string' || typeof w.fault !== 'string' || typeof w.startedAt !== 'number') {
        throw StreamproofError.at('HISTORY_INVALID_JSON', 'expected { faultId, fault, startedAt, healedAt? }', {
          path: `faults[${i}]`,
        });
      }
      h.#faults.set(w.faultId, {
        faultId: w.faultId,
        fault: w.fault,
        target: typeof w.target === 'string' ? w.target : undefined,
        startedAt: w.startedAt,
        healedAt: typeof w.healedAt === 'number' ? w.healedAt : undefined,
        ...detailOf(
          typeof w.detail === 'object' &&
            w.detail !== null &&
            typeof (w.detail as { summary?: unknown }).summary === 'string'
            ? (w.detail as FaultRecordDetail)
            : undefined,
        ),
      });
    });
    return h;
  }
}

function detailOf(detail: FaultRecordDetail | undefined): { detail?: FaultRecordDetail } {
  return detail === undefined ? {} : { detail };
}

/** Builds a History from records (tests, replays, small runs). */
export function historyOf(records: Iterable<HistoryRecord>, options: HistoryOptions = {}): History {
  const h = new History(options);
  for (const r of records) h.record(r);
  return h;
}

function invalid(r: HistoryRecord, message: string): StreamproofError {
  return StreamproofError.at('HISTORY_INVALID_RECORD', `${message} in ${JSON.stringify(r)}`, {
    path: `record(${r.kind})`,
  });
}

function optionalNumber(v: unknown, path: string): number | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v !== 'number') throw StreamproofError.at('HISTORY_INVALID_JSON', 'expected a number or null', { path });
  return v;
}

function mergeDrains(a: DrainState, b: DrainState): DrainState {
  const consumed = [...new Set([...(a.consumed ?? []), ...(b.consumed ?? [])])];
  return {
    time: Math.max(a.time, b.time),
    complete: a.complete && b.complete,
    ...(consumed.length ? { consumed } : {}),
  };
}

function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
