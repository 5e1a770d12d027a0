/**
 * lineage: every output record names the input event it came from, and every input comes out as often as the
 * scenario expects (0 for a filtered or bad input, 1 by default, N for a fan-out).
 *
 * Model: the lineage contract reads the input topic back after the drain (read_committed: what the pipeline really
 * received, unknown sends resolved by what landed) and fills a LineageTally: per source event, landed or not, the
 * outputs it must produce (`expected`), the outputs that named it (`seen`), bad, and whether the pipeline's group
 * committed past its input record. With the history's outcomes (offered, acked, failed), per event:
 * - landed, bad: must never come out; any output is `unexpected` (`bad-event`);
 * - landed, expected 0 (filtered): any output is `unexpected` (`filtered`);
 * - landed, expected N >= 1: seen N is ok; seen > N is `duplicated`; seen < N is missing: `lost` when the drain
 *   completed or the pipeline committed past its input record, else `unseen` (fate unknown: the verdict is
 *   `unknown`, never `false`);
 * - offered and acked but not in the input topic: not the pipeline's fault, nor decidable: `ackedNotLanded`, the
 *   verdict is `unknown` with a reason;
 * - an unknown or failed send that did not land, or an id nobody offered (or no event id at all), named by an
 *   output: `unexpected` (`not-in-input`, `never-offered`).
 * Unknown sends are judged by what landed (`unknownLanded` like acked ones, `unknownNotLanded` never to come out);
 * a failed send that landed anyway is judged like an acked one and counted (`failedButLanded`).
 * Order (per user, by the source `user_seq`), undecodable outputs and latency are the order, schema and latency
 * checkers' business: the contract records each source's first sighting in the history for them.
 *
 * Verdict: false on any lost, duplicated or unexpected; `unknown` when sources are unseen, acked events did not
 * land, outcomes conflict, the input was not read back, or nothing was offered; else true.
 *
 * Cost: one pass over seq per producer (the outcome bitsets and the tally's 3 bytes per event), no allocation
 * beyond the capped examples.
 */

import type { History } from '../history/index.ts';
import { formatEventId, parseEventId } from '../history/index.ts';
import { BAD, COMMITTED_PAST, LANDED, type LineageTally } from './lineage-tally.ts';
import { type AnomalyName, type Checker, type CheckerResult, resolveMaxExamples } from './types.ts';

export interface LineageOptions {
  /** Examples kept per anomaly. Default 20. */
  readonly maxExamples?: number;
}

export type LineageUnexpectedReason = 'never-offered' | 'not-in-input' | 'filtered' | 'bad-event';

export interface LineageCounts {
  offered: number;
  acked: number;
  failed: number;
  /** Offers without a definite outcome. */
  unknownSends: number;
  /** Unknown sends whose event landed in the input (judged like acked ones). */
  unknownLanded: number;
  /** Unknown sends that did not land (must not come out). */
  unknownNotLanded: number;
  /** Distinct events in the input topic. */
  landed: number;
  /** Landed events that must come out at least once. */
  expectedInputs: number;
  /** Outputs those must produce, summed. */
  expectedOutputs: number;
  /** Landed events that must not come out (expected 0), bad ones aside. */
  filteredInputs: number;
  /** Bad events (to the dead-letter topic, never to the output). */
  badInputs: number;
  /** Output records that named a source id (fan-out and re-deliveries included). */
  outputs: number;
  /** Expected inputs that came out exactly as often as expected. */
  ok: number;
  lost: number;
  unseen: number;
  duplicated: number;
  unexpected: number;
  unexpectedNeverOffered: number;
  unexpectedNotInInput: number;
  unexpectedFiltered: number;
  unexpectedBadEvent: number;
  ackedNotLanded: number;
  failedButLanded: number;
  conflictingOutcomes: number;
  /** Input records that are not the generator's events, or carry an id the tally cannot keep. */
  unusableInputs: number;
  /** Events whose input record landed more than once. */
  inputDuplicates: number;
}

export interface LineageCountOf {
  readonly eventId: string;
  readonly expected: number;
  readonly seen: number;
}

export interface LineageResult extends CheckerResult {
  readonly checker: 'lineage';
  readonly counts: LineageCounts;
  /** null when the input was not read back (the contract's finish did not run). */
  readonly drainComplete: boolean | null;
  readonly lost: readonly LineageCountOf[];
  readonly unseen: readonly LineageCountOf[];
  readonly duplicated: readonly LineageCountOf[];
  readonly unexpected: ReadonlyArray<{
    readonly eventId: string;
    readonly reason: LineageUnexpectedReason;
    readonly seen: number;
  }>;
  readonly ackedNotLanded: readonly string[];
}

/** One line of the full anomaly list (see `lineageEntries`). */
export type LineageEntry =
  | ({ readonly anomaly: 'lost' | 'unseen' | 'duplicated' } & LineageCountOf)
  | {
      readonly anomaly: 'unexpected';
      readonly eventId: string;
      readonly reason: LineageUnexpectedReason;
      readonly seen: number;
    }
  | { readonly anomaly: 'acked-not-landed'; readonly eventId: string };

export function emptyLineageCounts(): LineageCounts {
  return {
    offered: 0,
    acked: 0,
    failed: 0,
    unknownSends: 0,
    unknownLanded: 0,
    unknownNotLanded: 0,
    landed: 0,
    expectedInputs: 0,
    expectedOutputs: 0,
    filteredInputs: 0,
    badInputs: 0,
    outputs: 0,
    ok: 0,
    lost: 0,
    unseen: 0,
    duplicated: 0,
    unexpected: 0,
    unexpectedNeverOffered: 0,
    unexpectedNotInInput: 0,
    unexpectedFiltered: 0,
    unexpectedBadEvent: 0,
    ackedNotLanded: 0,
    failedButLanded: 0,
    conflictingOutcomes: 0,
    unusableInputs: 0,
    inputDuplicates: 0,
  };
}

const UNEXPECTED_KEY = {
  'never-offered': 'unexpectedNeverOffered',
  'not-in-input': 'unexpectedNotInInput',
  filtered: 'unexpectedFiltered',
  'bad-event': 'unexpectedBadEvent',
} as const satisfies Record<LineageUnexpectedReason, keyof LineageCounts>;

function unexpected(c: LineageCounts, eventId: string, reason: LineageUnexpectedReason, seen: number): LineageEntry {
  c.unexpected++;
  c[UNEXPECTED_KEY[reason]]++;
  return { anomaly: 'unexpected', eventId, reason, seen };
}

/**
 * Every finding, lazily, in the order producer, seq (then outputs naming ids outside every producer's range), while
 * filling `counts` (complete once the generator is exhausted).
 */
export function* lineageFindings(
  history: History,
  tally: LineageTally,
  counts: LineageCounts = emptyLineageCounts(),
): Generator<LineageEntry> {
  const c = counts;
  const complete = tally.drainComplete ?? history.drain?.complete ?? false;
  c.outputs = tally.outputs;
  c.unusableInputs = tally.unusableInputs;
  c.inputDuplicates = tally.inputDuplicates;
  const producers = [...new Set([...history.outcomes.producers(), ...tally.producers()])].sort((a, b) => a - b);
  for (const producer of producers) {
    const out = history.outcomes.get(producer);
    const n = Math.max(out?.offered.size ?? 0, tally.size(producer));
    for (let seq = 0; seq < n; seq++) {
      const offered = out?.offered.get(seq) ?? false;
      const flags = tally.flags(producer, seq);
      const seen = tally.seen(producer, seq);
      if (!offered && flags === 0 && seen === 0) continue;
      const acked = out?.acked.get(seq) ?? false;
      const failed = out?.failed.get(seq) ?? false;
      const landed = (flags & LANDED) !== 0;
      if (offered) {
        c.offered++;
        if (acked) c.acked++;
        if (failed) c.failed++;
        if (acked && failed) c.conflictingOutcomes++;
        if (!acked && !failed) {
          c.unknownSends++;
          if (landed) c.unknownLanded++;
          else c.unknownNotLanded++;
        }
        if (landed && failed && !acked) c.failedButLanded++;
      }
      if (landed) c.landed++;
      const eventId = formatEventId(producer, seq);
      if (flags & BAD) {
        c.badInputs++;
        if (seen > 0) yield unexpected(c, eventId, 'bad-event', seen);
        continue;
      }
      if (landed) {
        const expected = tally.expected(producer, seq);
        if (expected === 0) {
          c.filteredInputs++;
          if (seen > 0) yield unexpected(c, eventId, 'filtered', seen);
          continue;
        }
        c.expectedInputs++;
        c.expectedOutputs += expected;
        if (seen === expected) c.ok++;
        else if (seen > expected) {
          c.duplicated++;
          yield { anomaly: 'duplicated', eventId, expected, seen };
        } else if (complete || flags & COMMITTED_PAST) {
          c.lost++;
          yield { anomaly: 'lost', eventId, expected, seen };
        } else {
          c.unseen++;
          yield { anomaly: 'unseen', eventId, expected, seen };
        }
        continue;
      }
      if (offered && acked && !failed) {
        // The broker acked it, yet it is not in the input topic: the pipeline never had it to process.
        c.ackedNotLanded++;
        yield { anomaly: 'acked-not-landed', eventId };
        continue;
      }
      if (seen > 0) yield unexpected(c, eventId, offered ? 'not-in-input' : 'never-offered', seen);
    }
  }
  for (const [eventId, seen] of tally.oddIds()) {
    const ref = parseEventId(eventId);
    // Ids within a producer's offered range were judged in the walk above.
    if (ref !== undefined && ref.seq < (history.outcomes.get(ref.producer)?.offered.size ?? 0)) continue;
    yield unexpected(c, eventId, 'never-offered', seen);
  }
}

/** Every lineage finding, lazily (for `writeAnomalyFile`). */
export function lineageEntries(history: History, tally: LineageTally): Generator<LineageEntry> {
  return lineageFindings(history, tally);
}

export interface LineageLists {
  lost: LineageCountOf[];
  unseen: LineageCountOf[];
  duplicated: LineageCountOf[];
  unexpected: { eventId: string; reason: LineageUnexpectedReason; seen: number }[];
  ackedNotLanded: string[];
}

/** All findings as arrays, for anomalies.json. */
export function listLineageAnomalies(history: History, tally: LineageTally): LineageLists {
  const out: LineageLists = { lost: [], unseen: [], duplicated: [], unexpected: [], ackedNotLanded: [] };
  for (const e of lineageFindings(history, tally)) {
    if (e.anomaly === 'acked-not-landed') out.ackedNotLanded.push(e.eventId);
    else if (e.anomaly === 'unexpected') out.unexpected.push({ eventId: e.eventId, reason: e.reason, seen: e.seen });
    else out[e.anomaly].push({ eventId: e.eventId, expected: e.expected, seen: e.seen });
  }
  return out;
}

/** Runs the lineage check (see the module header for the model). */
export function checkLineage(history: History, tally: LineageTally, options: LineageOptions = {}): LineageResult {
  const max = resolveMaxExamples(options.maxExamples, 'lineage.maxExamples');
  const counts = emptyLineageCounts();
  const lists: LineageLists = { lost: [], unseen: [], duplicated: [], unexpected: [], ackedNotLanded: [] };
  for (const e of lineageFindings(history, tally, counts)) {
    if (e.anomaly === 'acked-not-landed') {
      if (lists.ackedNotLanded.length < max) lists.ackedNotLanded.push(e.eventId);
    } else if (e.anomaly === 'unexpected') {
      if (lists.unexpected.length < max) lists.unexpected.push({ eventId: e.eventId, reason: e.reason, seen: e.seen });
    } else if (lists[e.anomaly].length < max) {
      lists[e.anomaly].push({ eventId: e.eventId, expected: e.expected, seen: e.seen });
    }
  }
  const readBack = tally.drainComplete !== undefined;
  const anomalyTypes: AnomalyName[] = [];
  if (counts.lost > 0) anomalyTypes.push('lost');
  if (counts.duplicated > 0) anomalyTypes.push('duplicated');
  if (counts.unexpected > 0) anomalyTypes.push('unexpected');
  const reasons: string[] = [];
  if (!readBack) reasons.push('the input topic was not read back after the drain: nothing can be judged');
  if (counts.unseen > 0) {
    reasons.push(
      `${counts.unseen} input events came out fewer times than expected, and the pipeline had not committed past them when the drain ended before it caught up: their fate is unknown (raise drain.timeout)`,
    );
  }
  if (counts.ackedNotLanded > 0) {
    reasons.push(
      `${counts.ackedNotLanded} acked events are not in the input topic (read back read_committed after the drain): the pipeline never received them, so their lineage cannot be judged (a broker or producer problem, not the pipeline's)`,
    );
  }
  if (counts.conflictingOutcomes > 0) {
    reasons.push(`${counts.conflictingOutcomes} sends were recorded both acked and failed (a harness or client bug)`);
  }
  if (readBack && counts.offered === 0 && counts.landed === 0) {
    reasons.push('nothing was offered: an empty run certifies nothing');
  }
  const valid = anomalyTypes.length > 0 ? false : reasons.length > 0 ? 'unknown' : true;
  return {
    checker: 'lineage',
    valid,
    anomalyTypes,
    ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
    counts,
    drainComplete: readBack ? (tally.drainComplete ?? null) : null,
    ...lists,
  };
}

/** The lineage checker, for `runCheckers`: judges the history with the tally the contract filled in `finish`. */
export function lineage(
  tally: LineageTally | (() => LineageTally),
  options: LineageOptions = {},
): Checker<LineageResult> {
  resolveMaxExamples(options.maxExamples, 'lineage.maxExamples');
  return {
    name: 'lineage',
    check: (history) => checkLineage(history, typeof tally === 'function' ? tally() : tally, options),
  };
}
