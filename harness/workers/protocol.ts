/**
 * The control protocol of load workers: small JSON records on one single-partition Kafka topic per run,
 * `streamproof.control.<runId>`. One partition gives every reader the same total order, which is what makes index
 * claiming deterministic without any other coordination service.
 *
 * Records (each value is JSON `{ format, runId, type, ... }`; the key is the type):
 * - `plan` (coordinator): what to offer: topic, partitions, worker count W, the whole run's schedule and generator.
 * - `join` (worker without --index): claims the next free index; a worker's index is the number of distinct
 *   workers whose first `join` precedes its own in the topic.
 * - `ready` (worker): connected, holds index i, will offer the partitions p with p % W === i.
 * - `start` (coordinator, once every index is ready): `startAt`, the whole-ms instant of the first intended send.
 * - `stop` (coordinator): stop offering now, drain, report as usual.
 * - `abort` (coordinator): the run is over without a verdict (a worker is missing); stop and do not bother reporting.
 * - `chunk` (worker): one piece of its result (gzip of JSON `WorkerResult`, base64), in `seq` order; a result is
 *   chunked because Kafka refuses records over `max.message.bytes` (1 MiB by default).
 * - `done` (worker): the result is complete: chunk count, byte count and sha256 of the gzip bytes, or `error`.
 * See docs/workers.md.
 */

import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { type BadEvents, resolveBadEvents } from '../../generators/bad-slots.ts';
import type { LoadStageSpec } from '../load/options.ts';
import { StreamproofError } from '../util/errors.ts';

export const CONTROL_FORMAT = 'streamproof.control/1' as const;
export const CONTROL_TYPES = ['plan', 'join', 'ready', 'start', 'stop', 'abort', 'chunk', 'done'] as const;
export type ControlType = (typeof CONTROL_TYPES)[number];

/** Raw bytes per chunk: base64 makes them ~700 KB, under the broker's default 1 MiB record limit. */
export const CHUNK_BYTES = 512 * 1024;

const RUN_ID = /^[a-zA-Z0-9._-]{1,180}$/;

export function controlTopic(runId: string): string {
  if (!RUN_ID.test(runId)) {
    throw new StreamproofError('USAGE', `--run-id: expected letters, digits, ".", "_" or "-" (1-180), got "${runId}"`);
  }
  return `streamproof.control.${runId}`;
}

/** The load every worker runs (its slice of it): plain data, the same for all. */
export interface PlanLoad {
  /** The whole run's schedule: durations in ms, rates in events/s of the whole run. */
  stages: { duration: number; rate: number; endRate: number }[];
  producers: number;
  acksTimeoutMs: number;
  client?: 'platformatic' | 'fast';
  maxInFlightRequests?: number;
}

export interface PlanGenerator {
  seed: number;
  users: number;
  format: 'json' | 'avro';
  schemaId: number;
  schemaVersion: 1 | 2 | 3;
  /** `events.bad`, resolved (every worker mixes in the same bad slots). */
  bad?: BadEvents;
}

export interface PlanRecord {
  type: 'plan';
  workers: number;
  topic: string;
  partitions: number;
  load: PlanLoad;
  generator: PlanGenerator;
  /** How long a worker waits for `start` after `ready`, and the coordinator for results after the drain, ms. */
  workerTimeoutMs: number;
}
export interface JoinRecord {
  type: 'join';
  workerId: string;
  host: string;
  pid: number;
}
export interface ReadyRecord {
  type: 'ready';
  workerId: string;
  index: number;
  host: string;
  pid: number;
  /** Lanes (producer ids - base) this worker runs. */
  lanes: number[];
}
export interface StartRecord {
  type: 'start';
  startAt: number;
}
export interface StopRecord {
  type: 'stop';
}
export interface AbortRecord {
  type: 'abort';
  reason: string;
}
export interface ChunkRecord {
  type: 'chunk';
  workerId: string;
  index: number;
  seq: number;
  /** base64 of bytes [seq * CHUNK_BYTES, ...) of the gzip payload. */
  data: string;
}
export interface DoneRecord {
  type: 'done';
  workerId: string;
  index: number;
  chunks: number;
  bytes: number;
  sha256: string;
  /** Set when the worker could not run its load (then its result still says what it offered, if anything). */
  error?: string;
}

export type ControlRecord =
  | PlanRecord
  | JoinRecord
  | ReadyRecord
  | StartRecord
  | StopRecord
  | AbortRecord
  | ChunkRecord
  | DoneRecord;

export function encodeControl(runId: string, r: ControlRecord): Buffer {
  return Buffer.from(JSON.stringify({ format: CONTROL_FORMAT, runId, ...r }), 'utf8');
}

function bad(field: string, expected: string, got: unknown): StreamproofError {
  const shown = JSON.stringify(got);
  return new StreamproofError(
    'INTERNAL',
    `control record: ${field}: expected ${expected}, got ${shown === undefined ? String(got) : shown.slice(0, 80)}`,
    { path: field },
  );
}

const isInt = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/**
 * Parses and checks one control record of run `runId`. Returns undefined for a record of another format version
 * or another run (a topic is per run, but a hand-made one might be shared); throws naming the field otherwise.
 */
export function decodeControl(runId: string, value: Buffer | string): ControlRecord | undefined {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    throw bad('value', 'JSON', typeof value === 'string' ? value : value.toString('utf8', 0, 80));
  }
  if (typeof o !== 'object' || o === null) throw bad('value', 'an object', o);
  if (o.format !== CONTROL_FORMAT || o.runId !== runId) return undefined;
  const t = o.type;
  const need = (k: string, ok: (v: unknown) => boolean, expected: string) => {
    if (!ok(o[k])) throw bad(`${String(t)}.${k}`, expected, o[k]);
  };
  switch (t) {
    case 'plan': {
      need('workers', (v) => isInt(v, 1), 'an integer >= 1');
      need('topic', isStr, 'a topic name');
      need('partitions', (v) => isInt(v, 1), 'an integer >= 1');
      need('workerTimeoutMs', (v) => isInt(v, 1), 'a duration in ms');
      const l = o.load as Record<string, unknown> | undefined;
      if (typeof l !== 'object' || l === null) throw bad('plan.load', 'an object', l);
      if (!Array.isArray(l.stages) || l.stages.length === 0) throw bad('plan.load.stages', 'stages', l.stages);
      l.stages.forEach((s: Record<string, unknown>, i: number) => {
        for (const k of ['duration', 'rate', 'endRate'])
          if (typeof s?.[k] !== 'number' || !Number.isFinite(s[k]) || (s[k] as number) < 0)
            throw bad(`plan.load.stages[${i}].${k}`, 'a number >= 0', s?.[k]);
      });
      if (!isInt(l.producers, 1)) throw bad('plan.load.producers', 'an integer >= 1', l.producers);
      if (!isInt(l.acksTimeoutMs, 1)) throw bad('plan.load.acksTimeoutMs', 'ms', l.acksTimeoutMs);
      const g = o.generator as Record<string, unknown> | undefined;
      if (typeof g !== 'object' || g === null) throw bad('plan.generator', 'an object', g);
      if (!isInt(g.seed)) throw bad('plan.generator.seed', 'an integer >= 0', g.seed);
      if (!isInt(g.users, 1)) throw bad('plan.generator.users', 'an integer >= 1', g.users);
      if (g.format !== 'json' && g.format !== 'avro') throw bad('plan.generator.format', '"json" or "avro"', g.format);
      if (!isInt(g.schemaId)) throw bad('plan.generator.schemaId', 'an integer >= 0', g.schemaId);
      if (![1, 2, 3].includes(g.schemaVersion as number))
        throw bad('plan.generator.schemaVersion', '1, 2 or 3', g.schemaVersion);
      return {
        type: 'plan',
        workers: o.workers as number,
        topic: o.topic as string,
        partitions: o.partitions as number,
        workerTimeoutMs: o.workerTimeoutMs as number,
        load: {
          stages: (l.stages as PlanLoad['stages']).map((s) => ({
            duration: s.duration,
            rate: s.rate,
            endRate: s.endRate,
          })),
          producers: l.producers,
          acksTimeoutMs: l.acksTimeoutMs,
          ...(l.client === 'fast' ? { client: 'fast' as const } : {}),
          ...(isInt(l.maxInFlightRequests, 1) ? { maxInFlightRequests: l.maxInFlightRequests as number } : {}),
        },
        generator: {
          seed: g.seed,
          users: g.users,
          format: g.format,
          schemaId: g.schemaId,
          schemaVersion: g.schemaVersion as 1 | 2 | 3,
          ...(g.bad === undefined ? {} : { bad: resolveBadEvents(g.bad, 'plan.generator.bad') }),
        },
      };
    }
    case 'join':
      need('workerId', isStr, 'a worker id');
      need('host', isStr, 'a host name');
      need('pid', isInt, 'a pid');
      return { type: 'join', workerId: o.workerId as string, host: o.host as string, pid: o.pid as number };
    case 'ready':
      need('workerId', isStr, 'a worker id');
      need('index', isInt, 'an integer >= 0');
      need('host', isStr, 'a host name');
      need('pid', isInt, 'a pid');
      need('lanes', (v) => Array.isArray(v) && v.every((x) => isInt(x)), 'lane numbers');
      return {
        type: 'ready',
        workerId: o.workerId as string,
        index: o.index as number,
        host: o.host as string,
        pid: o.pid as number,
        lanes: o.lanes as number[],
      };
    case 'start':
      need('startAt', (v) => isInt(v, 1), 'a whole-ms epoch time');
      return { type: 'start', startAt: o.startAt as number };
    case 'stop':
      return { type: 'stop' };
    case 'abort':
      need('reason', isStr, 'a reason');
      return { type: 'abort', reason: o.reason as string };
    case 'chunk':
      need('workerId', isStr, 'a worker id');
      need('index', isInt, 'an integer >= 0');
      need('seq', isInt, 'an integer >= 0');
      need('data', (v) => typeof v === 'string', 'base64');
      return {
        type: 'chunk',
        workerId: o.workerId as string,
        index: o.index as number,
        seq: o.seq as number,
        data: o.data as string,
      };
    case 'done':
      need('workerId', isStr, 'a worker id');
      need('index', isInt, 'an integer >= 0');
      need('chunks', isInt, 'an integer >= 0');
      need('bytes', isInt, 'an integer >= 0');
      need('sha256', (v) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v), 'a sha256 in hex');
      if (o.error !== undefined && typeof o.error !== 'string') throw bad('done.error', 'a string', o.error);
      return {
        type: 'done',
        workerId: o.workerId as string,
        index: o.index as number,
        chunks: o.chunks as number,
        bytes: o.bytes as number,
        sha256: o.sha256 as string,
        ...(o.error === undefined ? {} : { error: o.error as string }),
      };
    default:
      throw bad('type', `one of ${CONTROL_TYPES.join(', ')}`, t);
  }
}

/** A worker's result as `chunk` records plus the `done` that closes it. */
export function chunkResult(
  workerId: string,
  index: number,
  result: unknown,
  chunkBytes = CHUNK_BYTES,
  error?: string,
): { chunks: ChunkRecord[]; done: DoneRecord } {
  const gz = gzipSync(Buffer.from(JSON.stringify(result), 'utf8'));
  const chunks: ChunkRecord[] = [];
  for (let off = 0, seq = 0; off < gz.length; off += chunkBytes, seq++) {
    chunks.push({ type: 'chunk', workerId, index, seq, data: gz.subarray(off, off + chunkBytes).toString('base64') });
  }
  const done: DoneRecord = {
    type: 'done',
    workerId,
    index,
    chunks: chunks.length,
    bytes: gz.length,
    sha256: createHash('sha256').update(gz).digest('hex'),
    ...(error === undefined ? {} : { error }),
  };
  return { chunks, done };
}

/**
 * Reassembles a result from its chunks (any order, repeats allowed: a producer retry may duplicate one) and checks
 * it against `done`. Throws naming what is missing or corrupt.
 */
export function assembleResult(chunks: readonly ChunkRecord[], done: DoneRecord): unknown {
  const bySeq = new Map<number, Buffer>();
  for (const c of chunks)
    if (c.workerId === done.workerId && c.seq < done.chunks) bySeq.set(c.seq, Buffer.from(c.data, 'base64'));
  const missing: number[] = [];
  for (let s = 0; s < done.chunks; s++) if (!bySeq.has(s)) missing.push(s);
  if (missing.length > 0) {
    throw new StreamproofError(
      'INTERNAL',
      `worker ${done.index}: result chunk(s) ${missing.slice(0, 5).join(', ')} of ${done.chunks} missing`,
    );
  }
  const gz = Buffer.concat([...Array(done.chunks).keys()].map((s) => bySeq.get(s)!));
  const sha = createHash('sha256').update(gz).digest('hex');
  if (gz.length !== done.bytes || sha !== done.sha256) {
    throw new StreamproofError(
      'INTERNAL',
      `worker ${done.index}: result is ${gz.length} bytes with sha256 ${sha.slice(0, 12)}, done says ${done.bytes} bytes, ${done.sha256.slice(0, 12)}`,
    );
  }
  return JSON.parse(gunzipSync(gz).toString('utf8'));
}

/** The load options of `plan` for `startLoad` (stages in the shape LoadOptions takes). */
export function planStages(plan: PlanRecord): LoadStageSpec[] {
  return plan.load.stages.map((s) => ({ duration: s.duration, rate: s.rate, endRate: s.endRate }));
}
