/**
 * startLoad's options: plain data, resolved against documented defaults and validated once, with errors that name
 * the path of the bad option (`load.stages[1].rate: expected a rate in events/s >= 0, got -5`).
 */
import type { BulkGeneratorOptions } from '../../generators/bulk.ts';
import type { LoadStage } from '../../generators/schedule.ts';
import type { History } from '../history/index.ts';
import { parseDuration } from '../util/duration.ts';
import { StreamproofError } from '../util/errors.ts';
import type { Progress } from '../util/progress.ts';
import type { Clock } from './clock.ts';

export const COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** A stage of the schedule: the rate moves linearly from `rate` to `endRate` (default `rate`) over `duration`. */
export interface LoadStageSpec {
  /** "30s", "250ms", "2m" or a number of ms (> 0). */
  duration: string | number;
  /** Events/s at the start of the stage (>= 0). */
  rate: number;
  /** Events/s at the end of the stage (>= 0): a ramp. Default `rate` (steady). */
  endRate?: number;
}

/** Generator options the driver owns (it sets them per producer): everything else is passed through. */
type DriverOwned = 'ratePerSec' | 'stages' | 'startTime';

export interface LoadOptions {
  /** The one address the producers connect to (e.g. the stack's proxied bootstrap, 127.0.0.1:port). */
  bootstrap: string;
  topic: string;
  /** Receives one `offered` and exactly one `outcome` record per event. */
  history: History;
  /** Seed, users, format, schemaId, producerId (the first producer's id; producer k gets producerId + k), ... */
  generator?: Omit<BulkGeneratorOptions, DriverOwned>;
  /** Constant target rate, events/s. Exclusive with `stages`. */
  rate?: number;
  /** Ramp / steady / spike stages. Exclusive with `rate`. */
  stages?: LoadStageSpec[];
  /** How long events are offered. Default: the stages' total; required with `rate`. */
  duration?: string | number;
  /** Kafka producer instances, each its own producer id in event ids and its own share of the partitions. Default 1. */
  producers?: number;
  /** A send not answered within this many ms is recorded `unknown` and its producer replaced. Default 30 000. */
  acksTimeoutMs?: number;
  /** Default 'none'. */
  compression?: Compression;
  /** Idempotent producer (acks=all always). Default true. */
  idempotent?: boolean;
  /** Offered-but-unresolved bytes (key + value) above which offering pauses (schedule lag grows). Default 64 MiB. */
  maxInFlightBytes?: number;
  /** Offered-but-unresolved events above which offering pauses. Default 1 000 000. */
  maxInFlightRecords?: number;
  /** Largest produce request (sum of key + value bytes), below the broker's message.max.bytes. Default 900 000. */
  maxRequestBytes?: number;
  /** Largest produce request in records. Default 20 000. */
  maxRequestRecords?: number;
  /** After the schedule ends (or stop()), how long in-flight sends may take before they count as unknown. Default acksTimeoutMs + 5 s. */
  drainTimeoutMs?: number;
  /** Pacing loop period when events are due, ms. Default 1. */
  tickMs?: number;
  /** An offer later than this after its intended time counts as a late offer. Default 100 ms. */
  lateOfferMs?: number;
  clientId?: string;
  /**
   * The producer implementation: 'platformatic' (@platformatic/kafka's Producer, default) or 'fast' (fast-sender.ts:
   * the produce protocol spoken directly, records copied once into the request; same outcomes contract).
   */
  client?: 'platformatic' | 'fast';
  /**
   * Produce requests in flight per producer (lane). Default 1; up to 5 with `client: 'fast'` (it numbers sequences
   * per request in order on one connection; the general client's idempotent producer allows only one).
   */
  maxInFlightRequests?: number;
  signal?: AbortSignal;
  progress?: Progress;
  /** Time source (tests). Default the system clock. */
  clock?: Clock;
  /**
   * Load workers (harness/workers): this process offers only the partitions p with `p % count === index`, each with
   * the lane (`p % producers`) and event id a one-process run gives it, so the workers' union is that run event for
   * event. Default: every partition.
   */
  slice?: { index: number; count: number };
  /** Intended send time of the first event, whole ms epoch (workers share one). Default: once the producers connect. */
  startAt?: number;
}

export interface ResolvedLoad {
  readonly topic: string;
  readonly bootstrap: string;
  readonly generator: Omit<BulkGeneratorOptions, DriverOwned>;
  readonly baseProducerId: number;
  readonly rate: number | undefined;
  readonly stages: LoadStage[] | undefined;
  readonly durationMs: number;
  /** Events/s the schedule asks for on average over `durationMs`. */
  readonly targetRate: number;
  readonly producers: number;
  readonly acksTimeoutMs: number;
  readonly compression: Compression;
  readonly idempotent: boolean;
  readonly maxInFlightBytes: number;
  readonly maxInFlightRecords: number;
  readonly maxRequestBytes: number;
  readonly maxRequestRecords: number;
  readonly drainTimeoutMs: number;
  readonly tickMs: number;
  readonly lateOfferMs: number;
  readonly clientId: string;
  readonly client: 'platformatic' | 'fast';
  readonly maxInFlightRequests: number;
  readonly slice: { readonly index: number; readonly count: number } | undefined;
  readonly startAt: number | undefined;
}

const KEYS = [
  'bootstrap',
  'topic',
  'history',
  'generator',
  'rate',
  'stages',
  'duration',
  'producers',
  'acksTimeoutMs',
  'compression',
  'idempotent',
  'maxInFlightBytes',
  'maxInFlightRecords',
  'maxRequestBytes',
  'maxRequestRecords',
  'drainTimeoutMs',
  'tickMs',
  'lateOfferMs',
  'clientId',
  'client',
  'maxInFlightRequests',
  'signal',
  'progress',
  'clock',
  'slice',
  'startAt',
];

/** An option error naming its path (shared by the Kafka and HTTP loads). */
export function bad(path: string, expected: string, got: unknown): StreamproofError {
  let shown: string;
  try {
    shown = typeof got === 'string' ? JSON.stringify(got) : (JSON.stringify(got) ?? String(got));
  } catch {
    shown = String(got);
  }
  return StreamproofError.at('LOAD_INVALID_OPTION', `expected ${expected}, got ${shown}`, { path });
}

/** A number option in [min, max] (an integer when asked), `fallback` when absent. */
export function num(path: string, v: unknown, fallback: number, min: number, max: number, integer = false): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw bad(path, `${integer ? 'an integer' : 'a number'} in [${min}, ${max}]`, v);
  }
  return v;
}

function duration(path: string, v: unknown): number {
  try {
    return parseDuration(v, path);
  } catch {
    throw bad(path, 'a duration like "10s", "250ms" or a number of ms', v);
  }
}

export function resolveLoadOptions(o: LoadOptions): ResolvedLoad {
  const p = 'load';
  if (typeof o !== 'object' || o === null) throw bad(p, 'an options object', o);
  for (const k of Object.keys(o)) if (!KEYS.includes(k)) throw bad(`${p}.${k}`, `one of ${KEYS.join(', ')}`, k);
  if (typeof o.bootstrap !== 'string' || !/^[^\s,]+:\d+$/.test(o.bootstrap)) {
    throw bad(`${p}.bootstrap`, 'one "host:port" address', o.bootstrap);
  }
  if (typeof o.topic !== 'string' || o.topic.length === 0) throw bad(`${p}.topic`, 'a topic name', o.topic);
  if (typeof o.history?.record !== 'function') throw bad(`${p}.history`, 'a History', typeof o.history);
  const generator = o.generator ?? {};
  for (const k of ['ratePerSec', 'stages', 'startTime'] as const) {
    if (k in generator)
      throw bad(`${p}.generator.${k}`, `no ${k} (the driver sets it from load.rate / load.stages)`, k);
  }
  const baseProducerId = num(`${p}.generator.producerId`, generator.producerId, 0, 0, 0xffff, true);
  const { rate, stages, durationMs, targetRate } = resolveSchedule(p, o);
  const acksTimeoutMs = num(`${p}.acksTimeoutMs`, o.acksTimeoutMs, 30_000, 100, 3_600_000);
  const compression = o.compression ?? 'none';
  if (!COMPRESSIONS.includes(compression))
    throw bad(`${p}.compression`, `one of ${COMPRESSIONS.join(', ')}`, o.compression);
  if (o.idempotent !== undefined && typeof o.idempotent !== 'boolean')
    throw bad(`${p}.idempotent`, 'a boolean', o.idempotent);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal))
    throw bad(`${p}.signal`, 'an AbortSignal', typeof o.signal);
  if (o.progress !== undefined && typeof o.progress !== 'function')
    throw bad(`${p}.progress`, 'a function', typeof o.progress);
  let slice: { index: number; count: number } | undefined;
  if (o.slice !== undefined) {
    if (typeof o.slice !== 'object' || o.slice === null) throw bad(`${p}.slice`, 'a slice { index, count }', o.slice);
    const count = num(`${p}.slice.count`, o.slice.count, Number.NaN, 1, 1000, true);
    if (Number.isNaN(count)) throw bad(`${p}.slice.count`, 'an integer in [1, 1000]', o.slice.count);
    const index = num(`${p}.slice.index`, o.slice.index, Number.NaN, 0, count - 1, true);
    if (Number.isNaN(index)) throw bad(`${p}.slice.index`, `an integer in [0, ${count - 1}]`, o.slice.index);
    slice = { index, count };
  }
  const startAt = num(`${p}.startAt`, o.startAt, Number.NaN, 1, 8.64e15, true);
  return {
    topic: o.topic,
    bootstrap: o.bootstrap,
    generator,
    baseProducerId,
    rate,
    stages,
    durationMs,
    targetRate,
    producers: num(`${p}.producers`, o.producers, 1, 1, 64, true),
    acksTimeoutMs,
    compression,
    idempotent: o.idempotent ?? true,
    maxInFlightBytes: num(`${p}.maxInFlightBytes`, o.maxInFlightBytes, 64 * 1024 * 1024, 1024, 2 ** 40, true),
    maxInFlightRecords: num(`${p}.maxInFlightRecords`, o.maxInFlightRecords, 1_000_000, 1, 1e9, true),
    maxRequestBytes: num(`${p}.maxRequestBytes`, o.maxRequestBytes, 900_000, 1024, 1 << 30, true),
    maxRequestRecords: num(`${p}.maxRequestRecords`, o.maxRequestRecords, 20_000, 1, 1e7, true),
    drainTimeoutMs: num(`${p}.drainTimeoutMs`, o.drainTimeoutMs, acksTimeoutMs + 5000, 0, 3_600_000),
    tickMs: num(`${p}.tickMs`, o.tickMs, 1, 0, 1000),
    lateOfferMs: num(`${p}.lateOfferMs`, o.lateOfferMs, 100, 0, 3_600_000),
    clientId: o.clientId ?? 'streamproof-load',
    client: clientOption(`${p}.client`, o.client),
    maxInFlightRequests: inFlightRequests(p, o),
    slice,
    startAt: Number.isNaN(startAt) ? undefined : startAt,
  };
}

/** The open-model schedule of a load: `rate` + `duration`, or `stages` (+ an optional `duration` cutting them). */
export function resolveSchedule(
  p: string,
  o: { rate?: number; stages?: LoadStageSpec[]; duration?: string | number },
): { rate: number | undefined; stages: LoadStage[] | undefined; durationMs: number; targetRate: number } {
  if (o.rate !== undefined && o.stages !== undefined)
    throw bad(`${p}.stages`, 'either rate or stages, not both', 'both');
  let rate: number | undefined;
  let stages: LoadStage[] | undefined;
  let durationMs: number;
  let planned: number;
  if (o.stages !== undefined) {
    if (!Array.isArray(o.stages) || o.stages.length === 0)
      throw bad(`${p}.stages`, 'a non-empty list of stages', o.stages);
    stages = o.stages.map((s, i) => {
      const sp = `${p}.stages[${i}]`;
      if (typeof s !== 'object' || s === null) throw bad(sp, 'a stage { duration, rate, endRate? }', s);
      for (const k of Object.keys(s))
        if (!['duration', 'rate', 'endRate'].includes(k)) throw bad(`${sp}.${k}`, 'one of duration, rate, endRate', k);
      const d = duration(`${sp}.duration`, s.duration);
      if (!(d > 0)) throw bad(`${sp}.duration`, 'a duration > 0', s.duration);
      const r = num(`${sp}.rate`, s.rate, Number.NaN, 0, 1e9);
      if (Number.isNaN(r)) throw bad(`${sp}.rate`, 'a rate in events/s', s.rate);
      const e = num(`${sp}.endRate`, s.endRate, r, 0, 1e9);
      return s.endRate === undefined ? { durationMs: d, rate: r } : { durationMs: d, rate: r, endRate: e };
    });
    const total = stages.reduce((a, s) => a + s.durationMs, 0);
    durationMs = o.duration === undefined ? total : duration(`${p}.duration`, o.duration);
    planned = plannedEvents(stages, durationMs);
    if (planned < 1) throw bad(`${p}.stages`, 'stages that schedule at least one event', o.stages);
  } else {
    if (o.rate === undefined) throw bad(`${p}.rate`, 'a rate in events/s (or stages)', o.rate);
    rate = num(`${p}.rate`, o.rate, 0, Number.MIN_VALUE, 1e9);
    if (o.duration === undefined) throw bad(`${p}.duration`, 'a duration (required with rate)', o.duration);
    durationMs = duration(`${p}.duration`, o.duration);
    planned = (rate * durationMs) / 1000;
  }
  if (!(durationMs > 0)) throw bad(`${p}.duration`, 'a duration > 0', o.duration);
  return { rate, stages, durationMs, targetRate: (planned * 1000) / durationMs };
}

function inFlightRequests(p: string, o: LoadOptions): number {
  const n = num(`${p}.maxInFlightRequests`, o.maxInFlightRequests, 1, 1, 5, true);
  if (n > 1 && o.client !== 'fast') {
    throw bad(
      `${p}.maxInFlightRequests`,
      "1 unless client is 'fast' (@platformatic/kafka's idempotent producer allows one request in flight)",
      n,
    );
  }
  return n;
}

function clientOption(path: string, v: unknown): 'platformatic' | 'fast' {
  if (v === undefined) return 'platformatic';
  if (v !== 'platformatic' && v !== 'fast') throw bad(path, 'one of platformatic, fast', v);
  return v;
}

/** Events the stages schedule in their first `durationMs` (the last stage's end rate continues after them). */
export function plannedEvents(stages: readonly LoadStage[], durationMs: number): number {
  let n = 0;
  let t = 0;
  let lastRate = 0;
  for (const s of stages) {
    const r0 = s.rate;
    const r1 = s.endRate ?? s.rate;
    const d = Math.min(s.durationMs, Math.max(0, durationMs - t));
    // integral of the linear rate over [0, d] of the stage
    n += (r0 * d + (((r1 - r0) / s.durationMs) * (d * d)) / 2) / 1000;
    t += s.durationMs;
    lastRate = r1;
  }
  if (durationMs > t) n += (lastRate * (durationMs - t)) / 1000;
  return n;
}
