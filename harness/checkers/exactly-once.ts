/**
 * exactlyOnce: every acknowledged event appears in the output exactly once, and nothing else does.
 *
 * Model: per producer, the OutcomeStore's offered (O), acked (A), failed (F) bitsets and the ObservationStore's
 * seen-once (S1) and seen-twice (S2) bitsets. Unknown (U) is every offer without a definite outcome:
 * `U = O & ~A & ~F` (timed out, or no outcome recorded at all). Word by word:
 * - missing       = A & ~F & ~S1   acknowledged, never seen after the drain; a missing event is
 *   `lost` when the drain completed (the pipeline consumed everything and went quiet) or when the pipeline committed
 *   past its input record (the drain's `consumed` list), else `unseen`: it may still come (Jepsen's :unseen);
 * - `duplicated`  = S2             seen more than once, whatever its outcome (a re-delivery of an unknown send
 *                                  is still a duplicate: at most once holds for every send);
 * - `unexpected`  = (S1 & ~O)      seen but never offered (well-formed id, no offer),
 *                 | (S1 & F & ~A)  seen although the client was told it definitely failed (a "failed" write that
 *                                  landed means a retry would duplicate it: the failure report was false),
 *                 + ids that are not `${producer}-${seq}` at all (counted by the ObservationStore);
 * - `unknownSeen` = U & S1, `unknownNotSeen` = U & ~S1: both legal (Jepsen's :info), reported apart, never fail;
 * - `conflictingOutcomes` = A & F: the harness recorded both; the checker cannot judge those sends.
 * Bad events (B, the offers that carried a bad event, `events.bad`) are expected absent: they leave `missing`
 * (`& ~B`), and a sighting of one is `unexpected` with reason `bad-event-in-output` (`S1 & B`), taken out of
 * `failed-but-seen` and `unknownSeen`; B costs one more bitset read per word, and nothing when no event was bad.
 *
 * Verdict: false if any lost, duplicated or unexpected event. `unknown` when events are unseen (missing, and the
 * pipeline has not committed past them when the drain gave up), when outcomes conflict, or when nothing was offered
 * (an empty run certifies nothing). Otherwise true.
 *
 * Cost: one pass over 32-bit words with popcounts; no allocation beyond the capped examples, so memory is the
 * history's own bits (~6 bits per event: 4 outcome + 2 sightings; +1 for the bad bitset when bad events were offered) and time is a few ns per 32 events.
 */

import type { History } from '../history/index.ts';
import { formatEventId, popcount32 } from '../history/index.ts';
import { type AnomalyName, type Checker, type CheckerResult, resolveMaxExamples } from './types.ts';

export interface ExactlyOnceOptions {
  /** Examples kept per anomaly. Default 20. */
  readonly maxExamples?: number;
}

export type UnexpectedReason = 'never-offered' | 'failed-but-seen' | 'malformed-id' | 'bad-event-in-output';

export interface ExactlyOnceCounts {
  offered: number;
  acked: number;
  failed: number;
  /** Offers without a definite outcome (timed out or never resolved). */
  unknown: number;
  /** Distinct well-formed event ids seen. */
  seen: number;
  /** Acked and seen exactly once. */
  ok: number;
  lost: number;
  /** Acked, not seen, and not committed past by the pipeline when an incomplete drain ended: fate unknown. */
  unseen: number;
  duplicated: number;
  unexpected: number;
  unexpectedNeverOffered: number;
  unexpectedFailedButSeen: number;
  unexpectedMalformedId: number;
  /** Bad events (`events.bad`) seen in the output. */
  unexpectedBadEvent: number;
  /** Offers that carried a bad event (expected absent from the output). */
  bad: number;
  unknownSeen: number;
  unknownNotSeen: number;
  conflictingOutcomes: number;
}

export interface ExactlyOnceResult extends CheckerResult {
  readonly checker: 'exactly-once';
  readonly counts: ExactlyOnceCounts;
  /** null when no drain was recorded. */
  readonly drainComplete: boolean | null;
  readonly lost: readonly string[];
  readonly unseen: readonly string[];
  readonly duplicated: ReadonlyArray<{ readonly eventId: string; readonly count: number }>;
  readonly unexpected: ReadonlyArray<{ readonly eventId: string; readonly reason: UnexpectedReason }>;
  readonly unknownSeen: readonly string[];
  readonly unknownNotSeen: readonly string[];
  readonly conflictingOutcomes: readonly string[];
}

/** One line of the full anomaly list (see `exactlyOnceEntries`). */
export type ExactlyOnceEntry =
  | { readonly anomaly: 'lost'; readonly eventId: string }
  | { readonly anomaly: 'unseen'; readonly eventId: string }
  | { readonly anomaly: 'duplicated'; readonly eventId: string; readonly count: number }
  | { readonly anomaly: 'unexpected'; readonly eventId: string; readonly reason: UnexpectedReason }
  | { readonly anomaly: 'unknown-seen'; readonly eventId: string }
  | { readonly anomaly: 'unknown-not-seen'; readonly eventId: string }
  | { readonly anomaly: 'conflicting-outcome'; readonly eventId: string };

// Mask indices, in the order examples and entries are reported.
const LOST = 0;
const DUPLICATED = 1;
const NEVER_OFFERED = 2;
const FAILED_SEEN = 3;
const UNKNOWN_SEEN = 4;
const UNKNOWN_NOT_SEEN = 5;
const CONFLICTING = 6;
const BAD_SEEN = 7;
const KIND_COUNT = 8;
// Not a mask: missing events (LOST mask) the drain could not settle.
const UNSEEN = 8;

interface ProducerWords {
  readonly producer: number;
  readonly offered: Uint32Array;
  readonly acked: Uint32Array;
  readonly failed: Uint32Array;
  readonly once: Uint32Array;
  readonly twice: Uint32Array;
  readonly bad: Uint32Array;
  /** Words to visit: max of offered and seen lengths. */
  readonly length: number;
}

const EMPTY = new Uint32Array(0);

/** Producers of either store, ascending, with their live word arrays. */
function producerWords(history: History): ProducerWords[] {
  const ids = new Set([...history.outcomes.producers(), ...history.observations.producers()]);
  return [...ids]
    .sort((a, b) => a - b)
    .map((producer) => {
      const out = history.outcomes.get(producer);
      const obs = history.observations.get(producer);
      const offered = out?.offered.words() ?? EMPTY;
      const once = obs?.once.words() ?? EMPTY;
      return {
        producer,
        offered,
        acked: out?.acked.words() ?? EMPTY,
        failed: out?.failed.words() ?? EMPTY,
        once,
        twice: obs?.twice.words() ?? EMPTY,
        bad: out?.bad.words() ?? EMPTY,
        length: Math.max(offered.length, once.length),
      };
    });
}

/**
 * Fills `m` with the seven masks of word `i` (see the module header) and returns the "acked and seen exactly
 * once" mask. Reads past an array's end are 0 (bitsets of one producer can have different lengths).
 */
function masksAt(w: ProducerWords, i: number, m: Int32Array): number {
  const o = i < w.offered.length ? w.offered[i]! : 0;
  const a = i < w.acked.length ? w.acked[i]! : 0;
  const f = i < w.failed.length ? w.failed[i]! : 0;
  const s1 = i < w.once.length ? w.once[i]! : 0;
  const s2 = i < w.twice.length ? w.twice[i]! : 0;
  const b = i < w.bad.length ? w.bad[i]! : 0;
  const u = o & ~a & ~f;
  m[LOST] = a & ~f & ~s1 & ~b; // missing: lost or unseen, see `settle`; a bad event is expected absent
  m[DUPLICATED] = s2;
  m[NEVER_OFFERED] = s1 & ~o;
  m[FAILED_SEEN] = s1 & f & ~a & ~b;
  m[UNKNOWN_SEEN] = u & s1 & ~b;
  m[UNKNOWN_NOT_SEEN] = u & ~s1;
  m[CONFLICTING] = a & f;
  m[BAD_SEEN] = s1 & b;
  return a & ~f & s1 & ~s2 & ~b;
}

function* bitsOf(wordIndex: number, mask: number): Generator<number> {
  let w = mask;
  while (w !== 0) {
    const low = w & -w;
    yield (wordIndex << 5) + (31 - Math.clz32(low));
    w ^= low;
  }
}

/**
 * Acked events not seen in the output (lost or unseen, whatever the drain says), counted word by word without
 * allocating: cheap enough for the drain to ask every few hundred milliseconds of a 10M-event run.
 */
export function countMissing(history: History): number {
  const m = new Int32Array(KIND_COUNT);
  let n = 0;
  for (const w of producerWords(history)) {
    for (let i = 0; i < w.acked.length; i++) {
      masksAt(w, i, m);
      n += popcount32(m[LOST]!);
    }
  }
  return n;
}

/** Runs the exactly-once check on a history (see the module header for the model). */
export function checkExactlyOnce(history: History, options: ExactlyOnceOptions = {}): ExactlyOnceResult {
  const max = resolveMaxExamples(options.maxExamples, 'exactlyOnce.maxExamples');
  const examples: string[][] = Array.from({ length: KIND_COUNT + 1 }, () => []);
  const c = new Float64Array(KIND_COUNT + 1);
  const settle = settler(history);
  let ok = 0;
  let seen = 0;
  const m = new Int32Array(KIND_COUNT);
  for (const w of producerWords(history)) {
    const { once, offered } = w;
    for (let i = 0; i < w.length; i++) {
      // Fast path: a word nobody offered or saw has nothing to say.
      if (((i < offered.length ? offered[i]! : 0) | (i < once.length ? once[i]! : 0)) === 0) continue;
      ok += popcount32(masksAt(w, i, m));
      seen += popcount32(i < once.length ? once[i]! : 0);
      for (let k = 0; k < KIND_COUNT; k++) {
        const mask = m[k]!;
        if (mask === 0) continue;
        if (k === LOST && settle !== undefined) {
          // An incomplete drain: each missing event is lost or unseen by the drain's evidence.
          for (const seq of bitsOf(i, mask)) {
            const id = formatEventId(w.producer, seq);
            const kind = settle(id);
            c[kind] = c[kind]! + 1;
            if (examples[kind]!.length < max) examples[kind]!.push(id);
          }
          continue;
        }
        c[k] = c[k]! + popcount32(mask);
        const list = examples[k]!;
        if (list.length >= max) continue;
        for (const seq of bitsOf(i, mask)) {
          if (list.length >= max) break;
          list.push(formatEventId(w.producer, seq));
        }
      }
    }
  }

  const totals = history.outcomes.counts();
  const malformed = history.observations.unexpectedIdCount;
  const unexpected: { eventId: string; reason: UnexpectedReason }[] = [
    ...examples[NEVER_OFFERED]!.map((eventId) => ({ eventId, reason: 'never-offered' as const })),
    ...examples[FAILED_SEEN]!.map((eventId) => ({ eventId, reason: 'failed-but-seen' as const })),
    ...examples[BAD_SEEN]!.map((eventId) => ({ eventId, reason: 'bad-event-in-output' as const })),
    ...history.observations.unexpectedIds
      .slice(0, max)
      .map((eventId) => ({ eventId, reason: 'malformed-id' as const })),
  ].slice(0, max);

  const counts: ExactlyOnceCounts = {
    offered: totals.offered,
    acked: totals.acked,
    failed: totals.failed,
    unknown: c[UNKNOWN_SEEN]! + c[UNKNOWN_NOT_SEEN]!,
    seen,
    ok,
    lost: c[LOST]!,
    unseen: c[UNSEEN]!,
    duplicated: c[DUPLICATED]!,
    unexpected: c[NEVER_OFFERED]! + c[FAILED_SEEN]! + c[BAD_SEEN]! + malformed,
    unexpectedNeverOffered: c[NEVER_OFFERED]!,
    unexpectedFailedButSeen: c[FAILED_SEEN]!,
    unexpectedMalformedId: malformed,
    unexpectedBadEvent: c[BAD_SEEN]!,
    bad: history.outcomes.badCount(),
    unknownSeen: c[UNKNOWN_SEEN]!,
    unknownNotSeen: c[UNKNOWN_NOT_SEEN]!,
    conflictingOutcomes: c[CONFLICTING]!,
  };

  const drain = history.drain;
  const drainComplete = drain === undefined ? null : drain.complete;
  const anomalyTypes: AnomalyName[] = [];
  const reasons: string[] = [];
  if (counts.lost > 0) anomalyTypes.push('lost');
  if (counts.unseen > 0) {
    const why = drain === undefined ? 'no drain was recorded' : 'the drain ended before the pipeline caught up';
    reasons.push(
      `${counts.unseen} acked events unseen: not in the output, and the pipeline had not committed past them (${why}); their fate is unknown`,
    );
  }
  if (counts.duplicated > 0) anomalyTypes.push('duplicated');
  if (counts.unexpected > 0) anomalyTypes.push('unexpected');
  if (counts.conflictingOutcomes > 0) {
    reasons.push(`${counts.conflictingOutcomes} sends were recorded both acked and failed (a harness or client bug)`);
  }
  if (counts.offered === 0) reasons.push('nothing was offered: an empty run certifies nothing');

  const valid = anomalyTypes.length > 0 ? false : reasons.length > 0 ? 'unknown' : true;
  return {
    checker: 'exactly-once',
    valid,
    anomalyTypes,
    ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
    counts,
    drainComplete,
    lost: examples[LOST]!,
    unseen: examples[UNSEEN]!,
    duplicated: examples[DUPLICATED]!.map((eventId) => ({ eventId, count: sightingsOf(history, eventId) })),
    unexpected,
    unknownSeen: examples[UNKNOWN_SEEN]!,
    unknownNotSeen: examples[UNKNOWN_NOT_SEEN]!,
    conflictingOutcomes: examples[CONFLICTING]!,
  };
}

/**
 * For an incomplete (or missing) drain, how to classify a missing event: lost when the pipeline committed past it,
 * else unseen. Undefined for a complete drain: every missing event is lost.
 */
function settler(history: History): ((eventId: string) => typeof LOST | typeof UNSEEN) | undefined {
  const drain = history.drain;
  if (drain?.complete) return undefined;
  const consumed = new Set(drain?.consumed ?? []);
  return (id) => (consumed.has(id) ? LOST : UNSEEN);
}

function sightingsOf(history: History, eventId: string): number {
  const dash = eventId.indexOf('-');
  return history.observations.sightings(Number(eventId.slice(0, dash)), Number(eventId.slice(dash + 1)));
}

/**
 * Every exactly-once finding, one entry per event, lazily (a bad 10M-event run can have millions), in the order
 * producer, seq: lost, duplicated (with count), unexpected (with reason; malformed ids only as far as the
 * ObservationStore kept them), the unknown-outcome sends seen or not, conflicting outcomes. For `writeAnomalyFile`.
 */
export function* exactlyOnceEntries(history: History): Generator<ExactlyOnceEntry> {
  const m = new Int32Array(KIND_COUNT);
  const settle = settler(history);
  for (const w of producerWords(history)) {
    for (let i = 0; i < w.length; i++) {
      masksAt(w, i, m);
      for (let k = 0; k < KIND_COUNT; k++) {
        const mask = m[k]!;
        if (mask === 0) continue;
        for (const seq of bitsOf(i, mask)) {
          const id = formatEventId(w.producer, seq);
          yield entryOf(history, k === LOST && settle ? settle(id) : k, id);
        }
      }
    }
  }
  for (const eventId of history.observations.unexpectedIds) {
    yield { anomaly: 'unexpected', eventId, reason: 'malformed-id' };
  }
}

export interface ExactlyOnceLists {
  lost: string[];
  unseen: string[];
  duplicated: { eventId: string; count: number }[];
  unexpected: { eventId: string; reason: UnexpectedReason }[];
  unknownSeen: string[];
  unknownNotSeen: string[];
  conflictingOutcomes: string[];
}

/** All findings as arrays (tests and small runs; prefer `exactlyOnceEntries` for big ones). */
export function listExactlyOnceAnomalies(history: History): ExactlyOnceLists {
  const out: ExactlyOnceLists = {
    lost: [],
    unseen: [],
    duplicated: [],
    unexpected: [],
    unknownSeen: [],
    unknownNotSeen: [],
    conflictingOutcomes: [],
  };
  for (const e of exactlyOnceEntries(history)) {
    switch (e.anomaly) {
      case 'lost':
        out.lost.push(e.eventId);
        break;
      case 'unseen':
        out.unseen.push(e.eventId);
        break;
      case 'duplicated':
        out.duplicated.push({ eventId: e.eventId, count: e.count });
        break;
      case 'unexpected':
        out.unexpected.push({ eventId: e.eventId, reason: e.reason });
        break;
      case 'unknown-seen':
        out.unknownSeen.push(e.eventId);
        break;
      case 'unknown-not-seen':
        out.unknownNotSeen.push(e.eventId);
        break;
      case 'conflicting-outcome':
        out.conflictingOutcomes.push(e.eventId);
        break;
    }
  }
  return out;
}

function entryOf(history: History, kind: number, eventId: string): ExactlyOnceEntry {
  switch (kind) {
    case LOST:
      return { anomaly: 'lost', eventId };
    case UNSEEN:
      return { anomaly: 'unseen', eventId };
    case DUPLICATED:
      return { anomaly: 'duplicated', eventId, count: sightingsOf(history, eventId) };
    case NEVER_OFFERED:
      return { anomaly: 'unexpected', eventId, reason: 'never-offered' };
    case FAILED_SEEN:
      return { anomaly: 'unexpected', eventId, reason: 'failed-but-seen' };
    case UNKNOWN_SEEN:
      return { anomaly: 'unknown-seen', eventId };
    case UNKNOWN_NOT_SEEN:
      return { anomaly: 'unknown-not-seen', eventId };
    case BAD_SEEN:
      return { anomaly: 'unexpected', eventId, reason: 'bad-event-in-output' };
    default:
      return { anomaly: 'conflicting-outcome', eventId };
  }
}

/** The exactly-once checker, for `runCheckers`. */
export function exactlyOnce(options: ExactlyOnceOptions = {}): Checker<ExactlyOnceResult> {
  resolveMaxExamples(options.maxExamples, 'exactlyOnce.maxExamples');
  return { name: 'exactly-once', check: (history) => checkExactlyOnce(history, options) };
}
