/**
 * Regression integrity (after @platformatic/kafka's `regression/integrity`): the helpers that build and judge test
 * histories are themselves tested against known-bad input. If `simulate` stopped producing correct runs, or
 * `mutate` stopped breaking them, or the oracle stopped seeing breakage, the checker properties would pass
 * vacuously; these tests make that impossible to miss.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MUTATIONS, mutate, oracle, type SimSpec, simSpecArbitrary, simulate } from './fixtures.ts';
import type { HistoryRecord } from './record.ts';

const spec: SimSpec = {
  producers: 2,
  users: 2,
  partitions: 2,
  sends: [
    { user: 0, outcome: 'acked', landed: false },
    { user: 1, outcome: 'acked', landed: false },
    { user: 0, outcome: 'acked', landed: false },
    { user: 1, outcome: 'failed', landed: false },
    { user: 0, outcome: 'unknown', landed: true },
    { user: 1, outcome: 'unknown', landed: false },
    { user: 0, outcome: 'acked', landed: false },
  ],
};

const clean = { lost: [], duplicated: [], unexpected: [], reordered: 0, undecodable: 0 };

describe('fixtures integrity', () => {
  it('simulate produces a correct run by the oracle, unknown sends resolved both ways', () => {
    const v = oracle(simulate(spec).records);
    expect(v).toMatchObject(clean);
    expect(v.unknownSeen).toEqual(['0-2']);
    expect(v.unknownNotSeen).toEqual(['1-2']);
  });

  it('the oracle sees each hand-written anomaly', () => {
    const o = (time: number, eventId: string | undefined, userSeq: number, key = 'u'): HistoryRecord => ({
      kind: 'observed',
      time,
      eventId,
      key,
      partition: 0,
      offset: time,
      userSeq,
      sentAt: 0,
    });
    const offer = (eventId: string, userSeq: number): HistoryRecord[] => [
      { kind: 'offered', time: 0, eventId, userId: 'u', userSeq, sentAt: 0 },
      { kind: 'outcome', time: 1, eventId, outcome: 'acked', sentAt: 0 },
    ];
    const base = [...offer('0-0', 0), ...offer('0-1', 1)];
    expect(oracle([...base, o(5, '0-0', 0)]).lost).toEqual(['0-1']);
    expect(oracle([...base, o(5, '0-0', 0), o(6, '0-1', 1), o(7, '0-1', 1)]).duplicated).toEqual(['0-1']);
    expect(oracle([...base, o(5, '0-0', 0), o(6, '0-1', 1), o(7, '9-9', 0, 'w')]).unexpected).toEqual(['9-9']);
    expect(oracle([...base, o(5, '0-1', 1), o(6, '0-0', 0)]).reordered).toBe(1);
    expect(oracle([...base, o(5, '0-0', 0), o(6, '0-1', 1), o(7, undefined, 0)]).undecodable).toBe(1);
    // A re-delivery of an old seq is a duplicate, not a reorder.
    const redelivered = oracle([...base, o(5, '0-0', 0), o(6, '0-1', 1), o(7, '0-0', 0)]);
    expect(redelivered.reordered).toBe(0);
    expect(redelivered.duplicated).toEqual(['0-0']);
  });

  it('every mutation breaks the fixed run, and the oracle sees exactly that breakage', () => {
    const run = simulate(spec);
    const expected = {
      lose: (v: ReturnType<typeof oracle>) => v.lost.length === 1,
      duplicate: (v: ReturnType<typeof oracle>) => v.duplicated.length === 1,
      reorder: (v: ReturnType<typeof oracle>) => v.reordered >= 1,
      unexpected: (v: ReturnType<typeof oracle>) => v.unexpected.length === 1,
      'failed-seen': (v: ReturnType<typeof oracle>) => v.unexpected.length === 1,
      undecodable: (v: ReturnType<typeof oracle>) => v.undecodable === 1,
    };
    for (const m of MUTATIONS) {
      const broken = mutate(run, m, 0.5);
      expect(broken, m).toBeDefined();
      expect(expected[m](oracle(broken!)), m).toBe(true);
    }
  });

  it('property: every generated run is correct, every applicable mutation is seen', () => {
    fc.assert(
      fc.property(
        simSpecArbitrary(),
        fc.constantFrom(...MUTATIONS),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (s, m, pick) => {
          const run = simulate(s);
          expect(oracle(run.records)).toMatchObject(clean);
          const broken = mutate(run, m, pick);
          if (broken === undefined) return;
          expect(oracle(broken)).not.toMatchObject(clean);
        },
      ),
      { numRuns: 300 },
    );
  });
});
