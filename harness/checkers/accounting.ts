/**
 * accounting: every bad event the load offered (`events.bad`) is accounted for: dead-lettered exactly once with a
 * reason, or refused at ingest; never in the output, never silently dropped; and nothing good is dead-lettered.
 *
 * Model: the history's per-producer bitsets (offered O, acked A, failed F, bad B, seen S1) and a `DlqLedger`: the
 * dead letters the run read from the pipeline's DLQ topic, each traced to the event id it carries
 * (`harness/contracts/dlq.ts`), with how many times and with which reasons. For each bad offer (a bit of B):
 * - acked and not failed: dead-lettered once with a reason -> ok; not at all -> `dlq-missing` (after an incomplete
 *   drain: `unsettled`, the verdict is unknown, since it may still come); more than once -> `dlq-duplicated`;
 * - failed (refused at ingest: a 4xx, or the collector's per-event `rejected`) or unknown outcome: no dead letter or
 *   one is fine, more than one is `dlq-duplicated`;
 * - seen in the output (S1): `unexpected` (the exactly-once checker names the same events `bad-event-in-output`).
 * A dead letter of a good offered event, of an id never offered, with no traceable id, or without a reason is
 * `dlq-unexpected`.
 *
 * Cost: one pass over B's words (nothing when no event was bad) plus one map lookup per bad offer and per dead letter.
 */
import type { History } from '../history/index.ts';
import { formatEventId, parseEventId } from '../history/index.ts';
import { type AnomalyName, type Checker, type CheckerResult, resolveMaxExamples } from './types.ts';

/** What the DLQ held: per traced event id, its dead letters; and the ones that could not be traced. */
export interface DlqLedger {
  /** Event id -> dead letters of it, with the reason of each (undefined: no reason). */
  readonly byId: ReadonlyMap<string, readonly (string | undefined)[]>;
  /** Dead letters whose value carries no event id. */
  readonly untraced: number;
  /** A few of them: partition/offset and a base64 prefix. */
  readonly untracedExamples: readonly string[];
  /** Dead letters read in all. */
  readonly total: number;
  /** Every dead letter by its reason (`(none)` for those without). */
  readonly byReason: Readonly<Record<string, number>>;
}

export interface AccountingOptions {
  readonly maxExamples?: number;
}

export type DlqUnexpectedReason = 'good-event' | 'never-offered' | 'untraced' | 'no-reason';

export interface AccountingCounts {
  /** Offers that carried a bad event. */
  bad: number;
  badAcked: number;
  /** Bad events refused at ingest (failed outcome). */
  refused: number;
  /** Bad events with an unknown outcome. */
  badUnknown: number;
  /** Bad events dead-lettered once, with a reason. */
  deadLettered: number;
  missing: number;
  /** Missing after an incomplete drain: may still come. */
  unsettled: number;
  duplicated: number;
  unexpected: number;
  /** Bad events in the output. */
  inOutput: number;
  /** Dead letters read. */
  dlqRecords: number;
}

export interface AccountingResult extends CheckerResult {
  readonly checker: 'accounting';
  readonly counts: AccountingCounts;
  /** Dead letters by reason (`(none)` for those without). */
  readonly byReason: Readonly<Record<string, number>>;
  readonly missing: readonly string[];
  readonly unsettled: readonly string[];
  readonly duplicated: ReadonlyArray<{ readonly eventId: string; readonly count: number }>;
  readonly unexpected: ReadonlyArray<{ readonly eventId: string; readonly reason: DlqUnexpectedReason }>;
  readonly inOutput: readonly string[];
}

export function checkAccounting(
  history: History,
  ledger: DlqLedger,
  options: AccountingOptions = {},
): AccountingResult {
  const max = resolveMaxExamples(options.maxExamples, 'accounting.maxExamples');
  const c: AccountingCounts = {
    bad: 0,
    badAcked: 0,
    refused: 0,
    badUnknown: 0,
    deadLettered: 0,
    missing: 0,
    unsettled: 0,
    duplicated: 0,
    unexpected: 0,
    inOutput: 0,
    dlqRecords: ledger.total,
  };
  const ex = {
    missing: [] as string[],
    unsettled: [] as string[],
    duplicated: [] as { eventId: string; count: number }[],
    unexpected: [] as { eventId: string; reason: DlqUnexpectedReason }[],
    inOutput: [] as string[],
  };
  const push = <T>(list: T[], v: T) => {
    if (list.length < max) list.push(v);
  };
  const byReason = { ...ledger.byReason };
  const unexpected = (eventId: string, reason: DlqUnexpectedReason) => {
    c.unexpected++;
    push(ex.unexpected, { eventId, reason });
  };
  const complete = history.drain?.complete === true;
  const consumed = new Set(history.drain?.consumed ?? []);

  for (const producer of history.outcomes.producers()) {
    const out = history.outcomes.get(producer)!;
    const b = out.bad.words();
    const once = history.observations.get(producer)?.once;
    for (let i = 0; i < b.length; i++) {
      let w = b[i]!;
      while (w !== 0) {
        const low = w & -w;
        w ^= low;
        const seq = (i << 5) + (31 - Math.clz32(low));
        const id = formatEventId(producer, seq);
        c.bad++;
        if (once?.get(seq)) {
          c.inOutput++;
          push(ex.inOutput, id);
        }
        const letters = ledger.byId.get(id) ?? [];
        const acked = out.acked.get(seq) && !out.failed.get(seq);
        if (acked) c.badAcked++;
        else if (out.failed.get(seq)) c.refused++;
        else c.badUnknown++;
        if (letters.length > 1) {
          c.duplicated++;
          push(ex.duplicated, { eventId: id, count: letters.length });
        } else if (letters.length === 1) {
          if (letters[0] === undefined) unexpected(id, 'no-reason');
          else c.deadLettered++;
        } else if (acked) {
          if (complete || consumed.has(id)) {
            c.missing++;
            push(ex.missing, id);
          } else {
            c.unsettled++;
            push(ex.unsettled, id);
          }
        }
      }
    }
  }
  for (const [id, letters] of ledger.byId) {
    const ref = parseEventId(id);
    if (ref !== undefined && history.outcomes.isBad(ref.producer, ref.seq)) continue;
    const offered = ref !== undefined && (history.outcomes.get(ref.producer)?.offered.get(ref.seq) ?? false);
    for (let k = 0; k < letters.length; k++) unexpected(id, offered ? 'good-event' : 'never-offered');
  }
  for (let k = 0; k < ledger.untraced; k++) {
    c.unexpected++;
    if (ex.unexpected.length < max)
      ex.unexpected.push({ eventId: ledger.untracedExamples[k] ?? '(untraced)', reason: 'untraced' });
  }

  const anomalyTypes: AnomalyName[] = [];
  if (c.missing > 0) anomalyTypes.push('dlq-missing');
  if (c.duplicated > 0) anomalyTypes.push('dlq-duplicated');
  if (c.unexpected > 0) anomalyTypes.push('dlq-unexpected');
  if (c.inOutput > 0) anomalyTypes.push('unexpected');
  const reasons: string[] = [];
  if (c.unsettled > 0)
    reasons.push(`${c.unsettled} acked bad events not dead-lettered when an incomplete drain ended: may still come`);
  if (c.bad === 0 && ledger.total === 0) reasons.push('no bad event was offered and the DLQ is empty');
  const valid = anomalyTypes.length > 0 ? false : c.unsettled > 0 ? 'unknown' : true;
  return {
    checker: 'accounting',
    valid,
    anomalyTypes,
    ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
    counts: c,
    byReason,
    ...ex,
  };
}

/** The accounting checker, for `runCheckers`: `ledger()` is read when the checkers run (after the drain). */
export function accounting(ledger: () => DlqLedger, options: AccountingOptions = {}): Checker<AccountingResult> {
  resolveMaxExamples(options.maxExamples, 'accounting.maxExamples');
  return { name: 'accounting', check: (history) => checkAccounting(history, ledger(), options) };
}
