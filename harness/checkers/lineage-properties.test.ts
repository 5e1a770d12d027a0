/**
 * Properties of the lineage checker over random tallies: each event is either clean (comes out exactly as the
 * scenario expects) or carries one planted finding. The verdict is false exactly when an anomaly is planted, and a
 * run whose only findings are events still missing after an incomplete drain is never false.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type HistoryRecord, historyOf, type Outcome } from '../history/index.ts';
import { checkLineage } from './lineage.ts';
import { BAD, COMMITTED_PAST, LineageTally } from './lineage-tally.ts';

const CLEAN = ['ok', 'filtered-ok', 'bad-ok', 'not-landed-ok'] as const;
const ANOMALIES = ['lost', 'duplicated', 'filtered', 'bad-event', 'not-in-input', 'never-offered'] as const;
const UNDECIDED = ['unseen', 'acked-not-landed'] as const;
type Plant = (typeof CLEAN)[number] | (typeof ANOMALIES)[number] | (typeof UNDECIDED)[number];

interface Ev {
  readonly plant: Plant;
  readonly producer: number;
  /** Offer outcome; 'none' when offered without one; undefined when never offered. */
  readonly outcome: Outcome | 'none' | undefined;
  readonly bad: boolean;
  readonly landed: boolean;
  readonly expected: number;
  readonly seen: number;
  readonly committedPast: boolean;
}

const anyOutcome = fc.constantFrom<Outcome | 'none'>('acked', 'failed', 'unknown', 'none');
const notAcked = fc.constantFrom<Outcome | 'none'>('failed', 'unknown', 'none');

/** One event with its plant, consistent with the drain (`unseen` needs an incomplete one, `lost` past it or not). */
function eventArb(plant: Plant, complete: boolean): fc.Arbitrary<Ev> {
  const base = { producer: fc.integer({ min: 0, max: 2 }), committedPast: fc.boolean() };
  const ev = (o: Record<string, fc.Arbitrary<unknown>>) =>
    fc
      .record({ ...base, bad: fc.constant(false), landed: fc.constant(true), ...o })
      .map((r) => ({ plant, ...r }) as Ev);
  const count = fc.integer({ min: 1, max: 3 });
  switch (plant) {
    case 'ok':
      return ev({ outcome: anyOutcome, expected: count }).map((e) => ({ ...e, seen: e.expected }));
    case 'filtered-ok':
      return ev({ outcome: anyOutcome, expected: fc.constant(0), seen: fc.constant(0) });
    case 'bad-ok':
      return ev({ outcome: anyOutcome, bad: fc.constant(true), landed: fc.boolean(), expected: fc.constant(0) }).map(
        (e) => ({ ...e, seen: 0 }),
      );
    case 'not-landed-ok':
      return ev({ outcome: notAcked, landed: fc.constant(false), expected: fc.constant(0), seen: fc.constant(0) });
    case 'lost':
      return ev({ outcome: anyOutcome, expected: count }).chain((e) =>
        fc.integer({ min: 0, max: e.expected - 1 }).map((seen) => ({
          ...e,
          seen,
          committedPast: complete ? e.committedPast : true,
        })),
      );
    case 'unseen':
      return ev({ outcome: anyOutcome, expected: count }).chain((e) =>
        fc.integer({ min: 0, max: e.expected - 1 }).map((seen) => ({ ...e, seen, committedPast: false })),
      );
    case 'duplicated':
      return ev({ outcome: anyOutcome, expected: count }).chain((e) =>
        fc.integer({ min: e.expected + 1, max: e.expected + 3 }).map((seen) => ({ ...e, seen })),
      );
    case 'filtered':
      return ev({ outcome: anyOutcome, expected: fc.constant(0), seen: count });
    case 'bad-event':
      return ev({
        outcome: anyOutcome,
        bad: fc.constant(true),
        landed: fc.boolean(),
        expected: fc.constant(0),
        seen: count,
      });
    case 'not-in-input':
      return ev({ outcome: notAcked, landed: fc.constant(false), expected: fc.constant(0), seen: count });
    case 'never-offered':
      return ev({ outcome: fc.constant(undefined), landed: fc.constant(false), expected: fc.constant(0), seen: count });
    case 'acked-not-landed':
      return ev({
        outcome: fc.constant('acked'),
        landed: fc.constant(false),
        expected: fc.constant(0),
        seen: fc.nat(2),
      });
  }
}

interface Run {
  readonly complete: boolean;
  readonly events: readonly Ev[];
}

function runArb(plants: readonly Plant[]): fc.Arbitrary<Run> {
  return fc.boolean().chain((complete) =>
    fc
      .array(
        fc.constantFrom(...plants).chain((p) => eventArb(p, complete)),
        { maxLength: 40 },
      )
      .map((events) => ({
        complete,
        // `unseen` needs an incomplete drain: under a complete one the same event is lost.
        events: complete ? events.filter((e) => e.plant !== 'unseen') : events,
      })),
  );
}

/** The history and tally of a run: each event gets the next seq of its producer (never-offered ones leave a gap). */
function build(run: Run): { records: HistoryRecord[]; tally: LineageTally } {
  const next = new Map<number, number>();
  const placed = run.events.map((e) => {
    const seq = next.get(e.producer) ?? 0;
    next.set(e.producer, seq + 1);
    return { e, id: `${e.producer}-${seq}`, seq };
  });
  const records: HistoryRecord[] = [];
  for (const { e, id, seq } of placed) {
    if (e.outcome === undefined) continue;
    records.push({
      kind: 'offered',
      time: seq,
      eventId: id,
      userId: 'u',
      userSeq: seq,
      sentAt: seq,
      ...(e.bad ? { bad: true } : {}),
    });
    if (e.outcome !== 'none')
      records.push({ kind: 'outcome', time: seq, eventId: id, outcome: e.outcome, sentAt: seq });
  }
  const h = historyOf(records);
  const tally = new LineageTally();
  for (const p of h.outcomes.producers()) tally.reserve(p, h.outcomes.get(p)!.offered.size);
  for (const { e, id, seq } of placed) {
    if (e.bad) tally.markBad(e.producer, seq);
    const past = e.committedPast ? COMMITTED_PAST : 0;
    if (e.landed) tally.land(id, e.bad ? 0 : e.expected, (e.bad ? BAD : 0) | past);
  }
  for (const { e, id } of placed) for (let k = 0; k < e.seen; k++) tally.see(id);
  tally.drainComplete = run.complete;
  return { records, tally };
}

const is = (list: readonly string[]) => (e: Ev) => list.includes(e.plant);

describe('lineage properties', () => {
  it('false iff an anomaly is planted; unknown iff only undecidable ones (or nothing offered); else true', () => {
    fc.assert(
      fc.property(runArb([...CLEAN, ...ANOMALIES, ...UNDECIDED]), (run) => {
        const { records, tally } = build(run);
        const h = historyOf(records);
        const r = checkLineage(h, tally, { maxExamples: 1000 });
        const planted = run.events.filter(is(ANOMALIES));
        const undecided = run.events.filter(is(UNDECIDED));
        const offered = run.events.some((e) => e.outcome !== undefined);
        const want = planted.length > 0 ? false : undecided.length > 0 || !offered ? 'unknown' : true;
        expect(r.valid, JSON.stringify({ run, counts: r.counts })).toBe(want);
        const n = (plant: Plant) => run.events.filter((e) => e.plant === plant).length;
        expect(r.counts).toMatchObject({
          lost: n('lost'),
          unseen: n('unseen'),
          duplicated: n('duplicated'),
          unexpectedFiltered: n('filtered'),
          unexpectedBadEvent: n('bad-event'),
          unexpectedNotInInput: n('not-in-input'),
          unexpectedNeverOffered: n('never-offered'),
          ackedNotLanded: n('acked-not-landed'),
          ok: n('ok'),
          outputs: run.events.reduce((s, e) => s + e.seen, 0),
        });
        const types = new Set(r.anomalyTypes);
        expect(types.has('lost')).toBe(n('lost') > 0);
        expect(types.has('duplicated')).toBe(n('duplicated') > 0);
        expect(types.has('unexpected')).toBe(run.events.some(is(ANOMALIES.slice(2))));
      }),
      { numRuns: 300 },
    );
  });

  /** Clean events and unseen ones, after an incomplete drain. */
  const incomplete = fc
    .array(
      fc.constantFrom<Plant>(...CLEAN, 'unseen').chain((p) => eventArb(p, false)),
      { minLength: 1, maxLength: 40 },
    )
    .map((events): Run => ({ complete: false, events }));

  it('never false when the only missing events are unseen after an incomplete drain', () => {
    fc.assert(
      fc.property(incomplete, (run) => {
        const { records, tally } = build(run);
        const r = checkLineage(historyOf(records), tally);
        expect(r.valid).not.toBe(false);
        expect(r.anomalyTypes).toEqual([]);
        if (run.events.some(is(['unseen']))) expect(r.valid).toBe('unknown');
      }),
      { numRuns: 300 },
    );
  });

  it('the same run with a complete drain turns every unseen event into a lost one', () => {
    fc.assert(
      fc.property(incomplete, (run) => {
        const unseen = run.events.filter(is(['unseen'])).length;
        const { records, tally } = build({ ...run, complete: true });
        const r = checkLineage(historyOf(records), tally);
        expect(r.counts.lost).toBe(unseen);
        expect(r.counts.unseen).toBe(0);
        expect(r.valid).toBe(unseen === 0);
      }),
      { numRuns: 200 },
    );
  });
});
