/**
 * LatencyStore: latency distributions and per-second series of a run, in memory proportional to seconds.
 *
 * Model:
 * - End-to-end latency of an output record = `observedAt - sentAt` (intended send time of the open-model
 *   schedule, so driver lag counts against the pipeline, not for it: no coordinated omission). Every decodable
 *   output record carrying `sentAt` is recorded, re-deliveries included (their latency is real); that also makes
 *   merges exact.
 * - Ack latency = `ackTime - sentAt`, recorded once per acked send.
 * - Values are recorded in **microseconds** (integers) in HDR histograms (hdr-histogram-js, 3 significant digits
 *   for the run totals, 2 for the per-second ones): Kafka round trips on one machine are a few ms, so whole ms
 *   would flatten p50. Query helpers return milliseconds.
 * - A negative latency (clock skew between processes) is recorded as 0 and counted in `negative`, because dropping
 *   it would hide the skew and bias percentiles down.
 * - Per second (`Math.floor(time / 1000)`, epoch seconds of the record's `time`): offered / acked / failed / unknown
 *   / observed counts, and an end-to-end histogram of the records observed in that second.
 *
 * JSON: histograms are hdr-histogram-js compressed base64 (`encodeIntoCompressedBase64`), readable by any
 * HdrHistogram implementation.
 */

import type { Histogram } from 'hdr-histogram-js';
import * as hdr from 'hdr-histogram-js';
import { StreamproofError } from '../util/errors.ts';
import type { Outcome } from './record.ts';

/** The unit every histogram in this store records. */
export const LATENCY_UNIT = 'us' as const;
const US_PER_MS = 1000;

export interface SecondBucket {
  offered: number;
  acked: number;
  failed: number;
  unknown: number;
  observed: number;
  /** End-to-end latency (µs) of records observed in this second; absent when none carried `sentAt`. */
  e2e: Histogram | undefined;
}

/** One second of the series, values in ms; `null` percentiles when nothing was observed that second. */
export interface SeriesPoint {
  /** Epoch second. */
  readonly second: number;
  readonly offered: number;
  readonly acked: number;
  readonly failed: number;
  readonly unknown: number;
  readonly observed: number;
  readonly e2eCount: number;
  readonly e2eP50Ms: number | null;
  readonly e2eP95Ms: number | null;
  readonly e2eP99Ms: number | null;
}

export interface LatencyStoreJson {
  readonly unit: typeof LATENCY_UNIT;
  readonly e2e: string;
  readonly ack: string;
  readonly negative: { readonly e2e: number; readonly ack: number };
  /** Decodable output records without `sentAt` (no end-to-end latency possible). */
  readonly missingSentAt: number;
  readonly seconds: ReadonlyArray<{
    readonly second: number;
    readonly offered: number;
    readonly acked: number;
    readonly failed: number;
    readonly unknown: number;
    readonly observed: number;
    readonly e2e?: string;
  }>;
}

function totalHistogram(): Histogram {
  return hdr.build({ bitBucketSize: 32, numberOfSignificantValueDigits: 3, autoResize: true });
}

function secondHistogram(): Histogram {
  // Packed and 2 digits: a run has one of these per second, so they must stay small (~1 KiB each).
  return hdr.build({ bitBucketSize: 'packed', numberOfSignificantValueDigits: 2, autoResize: true });
}

function toMicros(ms: number): number {
  return Math.round(ms * US_PER_MS);
}

/** Value at percentile `p` (0..100) in ms, or null when empty. */
export function percentileMs(h: Histogram | undefined, p: number): number | null {
  if (h === undefined || h.totalCount === 0) return null;
  return h.getValueAtPercentile(p) / US_PER_MS;
}

export class LatencyStore {
  readonly e2e: Histogram = totalHistogram();
  readonly ack: Histogram = totalHistogram();
  readonly negative = { e2e: 0, ack: 0 };
  #missingSentAt = 0;
  readonly #seconds = new Map<number, SecondBucket>();

  offered(time: number): void {
    this.#bucket(time).offered++;
  }

  outcome(outcome: Outcome, time: number, sentAt: number): void {
    const b = this.#bucket(time);
    b[outcome]++;
    if (outcome === 'acked') {
      const us = toMicros(time - sentAt);
      if (us < 0) this.negative.ack++;
      this.ack.recordValue(Math.max(0, us));
    }
  }

  observed(time: number, sentAt: number | undefined, decodable: boolean): void {
    const b = this.#bucket(time);
    b.observed++;
    if (!decodable) return;
    if (sentAt === undefined || !Number.isFinite(sentAt)) {
      this.#missingSentAt++;
      return;
    }
    let us = toMicros(time - sentAt);
    if (us < 0) {
      this.negative.e2e++;
      us = 0;
    }
    this.e2e.recordValue(us);
    b.e2e ??= secondHistogram();
    b.e2e.recordValue(us);
  }

  get missingSentAt(): number {
    return this.#missingSentAt;
  }

  /** Epoch seconds with any data, ascending. */
  seconds(): number[] {
    return [...this.#seconds.keys()].sort((a, b) => a - b);
  }

  bucket(second: number): Readonly<SecondBucket> | undefined {
    return this.#seconds.get(second);
  }

  /** Dense series from the first to the last second with data (empty seconds are zeros). */
  series(): SeriesPoint[] {
    const secs = this.seconds();
    if (secs.length === 0) return [];
    const out: SeriesPoint[] = [];
    for (let s = secs[0]!; s <= secs[secs.length - 1]!; s++) {
      const b = this.#seconds.get(s);
      out.push({
        second: s,
        offered: b?.offered ?? 0,
        acked: b?.acked ?? 0,
        failed: b?.failed ?? 0,
        unknown: b?.unknown ?? 0,
        observed: b?.observed ?? 0,
        e2eCount: b?.e2e?.totalCount ?? 0,
        e2eP50Ms: percentileMs(b?.e2e, 50),
        e2eP95Ms: percentileMs(b?.e2e, 95),
        e2eP99Ms: percentileMs(b?.e2e, 99),
      });
    }
    return out;
  }

  /** End-to-end histogram of the seconds in [fromSecond, toSecond] (for fault baselines). */
  e2eBetween(fromSecond: number, toSecond: number): Histogram {
    const h = secondHistogram();
    for (let s = fromSecond; s <= toSecond; s++) {
      const e = this.#seconds.get(s)?.e2e;
      if (e !== undefined) h.add(e);
    }
    return h;
  }

  merge(other: LatencyStore): this {
    this.e2e.add(other.e2e);
    this.ack.add(other.ack);
    this.negative.e2e += other.negative.e2e;
    this.negative.ack += other.negative.ack;
    this.#missingSentAt += other.#missingSentAt;
    for (const [s, theirs] of other.#seconds) {
      const mine = this.#bucketAt(s);
      mine.offered += theirs.offered;
      mine.acked += theirs.acked;
      mine.failed += theirs.failed;
      mine.unknown += theirs.unknown;
      mine.observed += theirs.observed;
      if (theirs.e2e !== undefined) {
        mine.e2e ??= secondHistogram();
        mine.e2e.add(theirs.e2e);
      }
    }
    return this;
  }

  toJSON(): LatencyStoreJson {
    return {
      unit: LATENCY_UNIT,
      e2e: hdr.encodeIntoCompressedBase64(this.e2e),
      ack: hdr.encodeIntoCompressedBase64(this.ack),
      negative: { ...this.negative },
      missingSentAt: this.#missingSentAt,
      seconds: this.seconds().map((second) => {
        const b = this.#seconds.get(second)!;
        return {
          second,
          offered: b.offered,
          acked: b.acked,
          failed: b.failed,
          unknown: b.unknown,
          observed: b.observed,
          ...(b.e2e === undefined ? {} : { e2e: hdr.encodeIntoCompressedBase64(b.e2e) }),
        };
      }),
    };
  }

  static fromJSON(json: unknown, path = 'latency'): LatencyStore {
    const j = json as Record<string, unknown> | null;
    if (j === null || typeof j !== 'object') {
      throw StreamproofError.at('HISTORY_INVALID_JSON', 'expected an object', { path });
    }
    if (j.unit !== LATENCY_UNIT) {
      throw StreamproofError.at(
        'HISTORY_INVALID_JSON',
        `expected unit "${LATENCY_UNIT}", got ${JSON.stringify(j.unit)}`,
        {
          path: `${path}.unit`,
        },
      );
    }
    const store = new LatencyStore();
    store.e2e.add(decode(j.e2e, 32, `${path}.e2e`));
    store.ack.add(decode(j.ack, 32, `${path}.ack`));
    const negative = j.negative as Record<string, unknown> | undefined;
    store.negative.e2e = int(negative?.e2e, `${path}.negative.e2e`);
    store.negative.ack = int(negative?.ack, `${path}.negative.ack`);
    store.#missingSentAt = int(j.missingSentAt, `${path}.missingSentAt`);
    if (!Array.isArray(j.seconds)) {
      throw StreamproofError.at('HISTORY_INVALID_JSON', 'expected an array', { path: `${path}.seconds` });
    }
    j.seconds.forEach((entry: unknown, i: number) => {
      const at = `${path}.seconds[${i}]`;
      const e = (entry ?? {}) as Record<string, unknown>;
      const b = store.#bucketAt(int(e.second, `${at}.second`, true));
      b.offered = int(e.offered, `${at}.offered`);
      b.acked = int(e.acked, `${at}.acked`);
      b.failed = int(e.failed, `${at}.failed`);
      b.unknown = int(e.unknown, `${at}.unknown`);
      b.observed = int(e.observed, `${at}.observed`);
      if (e.e2e !== undefined) b.e2e = decode(e.e2e, 'packed', `${at}.e2e`);
    });
    return store;
  }

  #bucket(time: number): SecondBucket {
    return this.#bucketAt(Math.floor(time / 1000));
  }

  #bucketAt(second: number): SecondBucket {
    let b = this.#seconds.get(second);
    if (b === undefined) {
      b = { offered: 0, acked: 0, failed: 0, unknown: 0, observed: 0, e2e: undefined };
      this.#seconds.set(second, b);
    }
    return b;
  }
}

function decode(v: unknown, bitBucketSize: 32 | 'packed', path: string): Histogram {
  if (typeof v !== 'string') throw StreamproofError.at('HISTORY_INVALID_JSON', 'expected a base64 histogram', { path });
  try {
    const h = hdr.decodeFromCompressedBase64(v, bitBucketSize, false);
    // Decoded histograms come back fixed-size; later merges may bring larger values.
    h.autoResize = true;
    return h;
  } catch (cause) {
    throw StreamproofError.at('HISTORY_INVALID_JSON', 'not an HdrHistogram compressed base64 payload', { path, cause });
  }
}

function int(v: unknown, path: string, allowNegative = false): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || (!allowNegative && v < 0)) {
    throw StreamproofError.at('HISTORY_INVALID_JSON', 'expected a non-negative integer', { path });
  }
  return v;
}
