/**
 * startHttpLoad's options: plain data, resolved against documented defaults and validated once, with errors that
 * name the path of the bad option (`load.batch: expected an integer in [1, 100000], got 0`).
 */
import type { BulkGeneratorOptions } from '../../generators/bulk.ts';
import type { LoadStage } from '../../generators/schedule.ts';
import type { History } from '../history/index.ts';
import type { Progress } from '../util/progress.ts';
import type { Clock } from './clock.ts';
import type { ConnectionEvents, HttpConnection } from './http-connection.ts';
import { bad, type LoadStageSpec, num, resolveSchedule } from './options.ts';

type DriverOwned = 'ratePerSec' | 'stages' | 'startTime' | 'format' | 'schemaId';

export interface HttpLoadOptions {
  /** The ingest URL, e.g. `http://127.0.0.1:8080/v1/events` (127.0.0.1 / localhost only). */
  url: string;
  history: History;
  /** Seed, users, schemaVersion, producerId (the event ids' producer), traffic model. Always JSON. */
  generator?: Omit<BulkGeneratorOptions, DriverOwned>;
  /** Constant target rate, events/s. Exclusive with `stages`. */
  rate?: number;
  stages?: LoadStageSpec[];
  /** How long events are offered. Default: the stages' total; required with `rate`. */
  duration?: string | number;
  /** Events per request. Default 50. */
  batch?: number;
  /** Connections (lanes, each a slice of the users, one request in flight). Default 4. */
  connections?: number;
  /** Bearer token for `authorization`. */
  token?: string;
  /** A request unanswered this long is `unknown` (its connection is replaced). >= 1000. Default 30 000. */
  timeoutMs?: number;
  /** After the schedule, how long queued and in-flight requests may take. Default timeoutMs + 5 s. */
  drainTimeoutMs?: number;
  /** Offered-but-unresolved events above which offering pauses (schedule lag grows). Default 200 000. */
  maxInFlightEvents?: number;
  /** A request offered later than this after its intended time counts as a late offer. Default 100 ms. */
  lateOfferMs?: number;
  signal?: AbortSignal;
  progress?: Progress;
  clock?: Clock;
  /** Connection factory (tests); default one autocannon connection per lane (http-connection.ts). */
  connect?: (lane: number, events: ConnectionEvents) => HttpConnection;
}

export interface ResolvedHttpLoad {
  url: URL;
  generator: Omit<BulkGeneratorOptions, DriverOwned>;
  producerId: number;
  rate: number | undefined;
  stages: LoadStage[] | undefined;
  durationMs: number;
  targetRate: number;
  batch: number;
  connections: number;
  token: string | undefined;
  timeoutMs: number;
  drainTimeoutMs: number;
  maxInFlightEvents: number;
  lateOfferMs: number;
}

const KEYS = [
  'url',
  'history',
  'generator',
  'rate',
  'stages',
  'duration',
  'batch',
  'connections',
  'token',
  'timeoutMs',
  'drainTimeoutMs',
  'maxInFlightEvents',
  'lateOfferMs',
  'signal',
  'progress',
  'clock',
  'connect',
];

export function resolveHttpLoadOptions(o: HttpLoadOptions): ResolvedHttpLoad {
  const p = 'load';
  if (typeof o !== 'object' || o === null) throw bad(p, 'an options object', o);
  for (const k of Object.keys(o)) if (!KEYS.includes(k)) throw bad(`${p}.${k}`, `one of ${KEYS.join(', ')}`, k);
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw bad(`${p}.url`, 'an http:// URL', o.url);
  }
  if (url.protocol !== 'http:') throw bad(`${p}.url`, 'an http:// URL', o.url);
  // Traffic stays on this machine: load is for a collector the run started (or one beside it).
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
    throw bad(`${p}.url`, 'a URL on 127.0.0.1 or localhost', o.url);
  if (typeof o.history?.record !== 'function') throw bad(`${p}.history`, 'a History', typeof o.history);
  const generator = o.generator ?? {};
  for (const k of ['ratePerSec', 'stages', 'startTime', 'format', 'schemaId'] as const) {
    if (k in generator) throw bad(`${p}.generator.${k}`, `no ${k} (the HTTP load sets it)`, k);
  }
  const producerId = num(`${p}.generator.producerId`, generator.producerId, 0, 0, 0xffff, true);
  const { rate, stages, durationMs, targetRate } = resolveSchedule(p, o);
  if (o.token !== undefined && (typeof o.token !== 'string' || !/^[\x21-\x7e]+$/.test(o.token)))
    throw bad(`${p}.token`, 'a bearer token (printable ASCII, no spaces)', '<hidden>');
  // autocannon's connection timeout is in seconds, at least 1.
  const timeoutMs = num(`${p}.timeoutMs`, o.timeoutMs, 30_000, 1000, 3_600_000);
  return {
    url,
    generator,
    producerId,
    rate,
    stages,
    durationMs,
    targetRate,
    batch: num(`${p}.batch`, o.batch, 50, 1, 100_000, true),
    connections: num(`${p}.connections`, o.connections, 4, 1, 256, true),
    token: o.token,
    timeoutMs,
    drainTimeoutMs: num(`${p}.drainTimeoutMs`, o.drainTimeoutMs, timeoutMs + 5000, 0, 3_600_000),
    maxInFlightEvents: num(`${p}.maxInFlightEvents`, o.maxInFlightEvents, 200_000, 1, 1e9, true),
    lateOfferMs: num(`${p}.lateOfferMs`, o.lateOfferMs, 100, 0, 3_600_000),
  };
}
