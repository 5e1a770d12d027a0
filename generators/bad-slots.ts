/**
 * Bad events in the load (`events.bad`): a seeded fraction of the load's slots carry one of the `badEvent`
 * arbitrary's records instead of the good event generated there.
 *
 * Model: slot (producer, seq) is bad when a 32-bit hash of (seed, producer, seq) is below `rate * 2^32`: a pure
 * function, so every process (load workers included) and every later check agrees on which slots are bad without
 * being told. The bad record breaks the slot's own good event (same key, `event_id`, `user_id`, `user_seq` and
 * `sent_at` wherever the kind leaves them), drawn by fast-check (no bias) from a second hash of the slot: the same
 * seed gives the same bad bytes, which is how dead letters are traced back to their slot (`harness/contracts/dlq.ts`).
 *
 * Tracing: every bad record keeps its slot's `event_id` where `traceEventId` finds it (the JSON field, or the first
 * field of the Avro body behind whatever header); a draw that lost it (the id field itself removed or mistyped, an
 * Avro body cut inside the id) is drawn again from the next hash, so a dead letter names its slot by content alone,
 * verbatim or re-encoded. `short-buffer` (at most 4 bytes) can never be traced and is refused.
 *
 * Kinds: by default those any consumer decoding against the schema must refuse (`DECODE_KINDS`) for Kafka load, and
 * every JSON kind but `oversized-message` for HTTP load (the collector applies the rules beyond the schema too). Kinds
 * past the broker's message limit are never a default: the broker refuses the whole batch they travel in.
 */
import fc from 'fast-check';
import { BAD_EVENT_KINDS, type BadEvent, type BadEventKind, badEvent } from './arbitrary/badEvent.ts';
import type { Event, SchemaVersion } from './event.ts';
import { checkKeys, optionError } from './options.ts';

/** Refused by decoding against the schema (JSON or Confluent-framed Avro), whatever the pipeline's own rules. */
export const DECODE_KINDS: readonly BadEventKind[] = [
  'missing-field',
  'mistyped-field',
  'unknown-enum-symbol',
  'not-json',
  'unknown-schema-id',
  'wrong-magic-byte',
  'truncated-avro',
  'trailing-bytes',
];

/** Kinds whose bytes are JSON text on one line (what an NDJSON body can carry). */
export const JSON_KINDS: readonly BadEventKind[] = [
  'missing-field',
  'mistyped-field',
  'unknown-enum-symbol',
  'not-json',
  'oversized-value',
  'oversized-message',
  'future-timestamp',
  'ancient-timestamp',
  'revenue-on-non-conversion',
  'conversion-without-revenue',
];

export interface BadEventsOptions {
  /** Fraction of the load's slots that carry a bad event, in [0, 1]. */
  rate: number;
  /** Kinds to draw from (default: see the module comment). */
  kinds?: readonly BadEventKind[];
}

export interface BadEvents {
  readonly rate: number;
  readonly kinds: readonly BadEventKind[];
  /** A slot is bad when its hash is below this (rate * 2^32). */
  readonly threshold: number;
}

/** Validates `events.bad` (`path` names it in errors). `via` picks the default kinds and what HTTP can carry. */
export function resolveBadEvents(raw: unknown, path: string, via: 'kafka' | 'http' = 'kafka'): BadEvents {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw optionError(path, 'an object', raw);
  const o = raw as Record<string, unknown>;
  // `threshold` too: a resolved value (a worker's plan) resolves again to itself.
  checkKeys(path, o, ['rate', 'kinds', 'threshold']);
  const rate = o.rate;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw optionError(`${path}.rate`, 'a number in [0, 1]', rate);
  }
  const allowed = via === 'http' ? JSON_KINDS : BAD_EVENT_KINDS.filter((k) => k !== 'short-buffer');
  let kinds: readonly BadEventKind[];
  if (o.kinds === undefined)
    kinds = via === 'http' ? JSON_KINDS.filter((k) => k !== 'oversized-message') : DECODE_KINDS;
  else {
    const k = o.kinds;
    if (!Array.isArray(k) || k.length === 0 || k.some((x) => !allowed.includes(x as BadEventKind))) {
      throw optionError(`${path}.kinds`, `a non-empty list of ${allowed.join(', ')}`, k);
    }
    kinds = [...new Set(k as BadEventKind[])];
  }
  return { rate, kinds, threshold: Math.floor(rate * 2 ** 32) };
}

/** A 32-bit hash of (seed, producer, seq, salt): murmur3's finaliser over each word. */
export function slotHash(seed: number, producer: number, seq: number, salt = 0): number {
  const lo = seed | 0;
  const hi = Math.floor(seed / 2 ** 32) | 0;
  let h = 0x9e3779b9 ^ salt;
  for (const word of [lo, hi, producer | 0, seq | 0, Math.floor(seq / 2 ** 32) | 0]) {
    let k = Math.imul(word, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** True when slot (producer, seq) of the seed's load carries a bad event. */
export function isBadSlot(bad: BadEvents, seed: number, producer: number, seq: number): boolean {
  return bad.threshold > 0 && slotHash(seed, producer, seq) < bad.threshold;
}

/** The good event a bad slot breaks, and how the load encodes that slot. */
export interface SlotEvent {
  readonly event: Event;
  readonly version: SchemaVersion;
  /** The registry id the load frames Avro with (0 for JSON loads: Avro kinds then use id 1). */
  readonly schemaId: number;
}

/** Draws for one slot before giving up on a traceable record (a draw loses the id about 1 time in 10). */
const MAX_DRAWS = 64;

/** The bad record of slot (producer, seq): always the same for the same seed and good event; traceable to its id. */
export function badEventAt(bad: BadEvents, seed: number, producer: number, seq: number, good: SlotEvent): BadEvent {
  const arb = fc.noBias(
    badEvent({
      kinds: bad.kinds,
      schemaIds: { [good.version]: good.schemaId || 1 },
      event: { version: good.version, event: good.event },
    }),
  );
  const id = good.event.event_id;
  let last: BadEvent | undefined;
  for (let salt = 0; salt < MAX_DRAWS; salt++) {
    last = fc.sample(arb, { seed: slotHash(seed, producer, seq, 0x5eed + salt) | 0, numRuns: 1 })[0]!;
    if (traceEventId(last.bytes) === id) return last;
  }
  throw new Error(`bad event of slot ${id}: no traceable record in ${MAX_DRAWS} draws of ${bad.kinds.join(', ')}`);
}

const ID = /^(\d+-\d+)/;
// The id must be followed by something that is not a digit: text cut inside the id ("0-1" of "0-12") names no id.
const ID_IN_TEXT = /"event_id":"(\d+-\d+)(?=\D)/;

/**
 * The `event_id` a record carries (`${producer}-${seq}`), however broken the rest: a JSON object's field (its leading
 * id when padded), the field in truncated JSON text (when the text goes on past the id), or the first string of an
 * Avro body after a 5-byte header of any magic byte and schema id (`{` included: a record that starts with it but is
 * not JSON with an id is read as Avro too). Undefined when none is there.
 */
export function traceEventId(bytes: Uint8Array): string | undefined {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length > 0 && buf[0] === 0x7b) {
    const id = jsonEventId(buf);
    if (id !== undefined) return id;
  }
  return avroEventId(buf);
}

function jsonEventId(buf: Buffer): string | undefined {
  const text = buf.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return ID_IN_TEXT.exec(text)?.[1];
  }
  const id = (parsed as { event_id?: unknown } | null)?.event_id;
  return typeof id === 'string' ? ID.exec(id)?.[1] : undefined;
}

function avroEventId(buf: Buffer): string | undefined {
  if (buf.length < 6) return undefined;
  // Avro string: zigzag varint length, then UTF-8 bytes.
  // An id is at most 64 bytes: a length of one or two varint bytes; anything longer names no id.
  let n = 0;
  let p = 5;
  for (let shift = 0; ; shift += 7, p++) {
    if (p >= buf.length || shift > 7) return undefined;
    n |= (buf[p]! & 0x7f) << shift;
    if ((buf[p]! & 0x80) === 0) break;
  }
  const len = (n >>> 1) ^ -(n & 1);
  p++;
  if (len <= 0 || len > 64 || p + len > buf.length) return undefined;
  const id = buf.toString('latin1', p, p + len);
  return /^\d+-\d+$/.test(id) ? id : undefined;
}
