/**
 * Properties of the checkers over simulated runs (harness/history/fixtures.ts, itself integrity-tested):
 * - a correct run always passes, with unknown sends resolved either way;
 * - on any run, correct or broken in a known way, the checkers agree with the naive oracle;
 * - merging two workers' halves gives the same check result as one history of the whole run;
 * - a JSON round trip of the history preserves the check result.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MUTATIONS,
  type Mutation,
  mutate,
  oracle,
  type SimSpec,
  simSpecArbitrary,
  simulate,
} from '../history/fixtures.ts';
import { History, type HistoryRecord, historyOf } from '../history/index.ts';
import { runCheckers } from './compose.ts';
import { checkExactlyOnce, listExactlyOnceAnomalies } from './exactly-once.ts';
import { standardCheckers } from './index.ts';
import { checkOrder } from './order.ts';
import { checkSchema } from './schema.ts';

// SLOs that hold for any simulated run and always have data (a percentile of an empty output is unknown by
// design, and a correct run may legitimately observe nothing when every send failed).
const checkers = () =>
  standardCheckers({ slos: { e2e_latency: ['count>=0'], error_rate: ['rate<=1'] }, maxExamples: 1000 });

/** Sorts example arrays so results built from differently ordered (merged) stores compare equal. */
function canonical(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(canonical).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  if (x !== null && typeof x === 'object') {
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, canonical(v)]));
  }
  return x;
}

const brokenRun = fc.tuple(
  simSpecArbitrary(),
  fc.option(fc.constantFrom(...MUTATIONS), { nil: undefined }),
  fc.double({ min: 0, max: 1, noNaN: true }),
);

function recordsOf([spec, mutation, pick]: [SimSpec, Mutation | undefined, number]): HistoryRecord[] {
  const run = simulate(spec);
  return (mutation === undefined ? undefined : mutate(run, mutation, pick)) ?? [...run.records];
}

describe('checker properties', () => {
  it('a correct history always passes', () => {
    fc.assert(
      fc.property(simSpecArbitrary(), (spec) => {
        const run = simulate(spec);
        const r = runCheckers(historyOf(run.records), checkers());
        expect(r.verdict, JSON.stringify(r.results)).toBe('pass');
        expect(r.exitCode).toBe(0);
        const unknown = run.events.filter((e) => e.outcome === 'unknown');
        const eo = checkExactlyOnce(historyOf(run.records));
        expect(eo.counts.unknownSeen).toBe(unknown.filter((e) => e.landed).length);
        expect(eo.counts.unknownNotSeen).toBe(unknown.filter((e) => !e.landed).length);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with the naive oracle on correct and broken runs', () => {
    fc.assert(
      fc.property(brokenRun, (input) => {
        const records = recordsOf(input);
        const h = historyOf(records);
        const want = oracle(records);
        const lists = listExactlyOnceAnomalies(h);
        expect(lists.lost).toEqual(want.lost);
        expect(lists.duplicated.map((d) => d.eventId)).toEqual(want.duplicated);
        expect(lists.unexpected.map((u) => u.eventId).sort()).toEqual([...want.unexpected].sort());
        expect(lists.unknownSeen).toEqual(want.unknownSeen);
        expect(lists.unknownNotSeen).toEqual(want.unknownNotSeen);
        expect(checkOrder(h).counts.reordered).toBe(want.reordered);
        expect(checkSchema(h).counts.undecodable).toBe(want.undecodable);
        const verdict = runCheckers(h, checkers()).verdict;
        const clean =
          want.lost.length + want.duplicated.length + want.unexpected.length + want.reordered + want.undecodable === 0;
        expect(verdict).toBe(clean ? 'pass' : 'fail');
      }),
      { numRuns: 400 },
    );
  });

  it('merging two halves equals the whole', () => {
    fc.assert(
      fc.property(brokenRun, fc.nat(), (input, cut) => {
        const records = recordsOf(input);
        // Producer-side records split at an arbitrary point; output split by partition (one reader each), as a
        // consumer group would assign it.
        const sends = records.filter((r) => r.kind === 'offered' || r.kind === 'outcome');
        const k = cut % (sends.length + 1);
        const a = historyOf([
          ...sends.slice(0, k),
          ...records.filter((r) => (r.kind === 'observed' && r.partition % 2 === 0) || r.kind === 'drain'),
        ]);
        const b = historyOf([
          ...sends.slice(k),
          ...records.filter((r) => (r.kind === 'observed' && r.partition % 2 === 1) || r.kind === 'drain'),
        ]);
        const merged = a.merge(b);
        const whole = historyOf(records);
        expect(canonical(runCheckers(merged, checkers()))).toEqual(canonical(runCheckers(whole, checkers())));
      }),
      { numRuns: 200 },
    );
  });

  it('a JSON round trip preserves the check result', () => {
    fc.assert(
      fc.property(brokenRun, (input) => {
        const h = historyOf(recordsOf(input));
        const back = History.fromJSON(JSON.parse(JSON.stringify(h)));
        expect(runCheckers(back, checkers())).toEqual(runCheckers(h, checkers()));
        // HdrHistogram re-encodes a decoded histogram with different header bytes, so byte equality is checked
        // from the first round trip on: the saved form is a fixed point.
        const again = History.fromJSON(JSON.parse(JSON.stringify(back)));
        expect(JSON.stringify(again)).toBe(JSON.stringify(back));
      }),
      { numRuns: 100 },
    );
  });
});
