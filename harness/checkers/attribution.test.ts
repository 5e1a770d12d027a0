import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkAttribution, type ExpectedAttribution } from './attribution.ts';

const e = (id: string, credit = 1, rev: number | null = 100): ExpectedAttribution => ({
  record_id: id,
  credit,
  revenue_credit_minor: rev,
});
const o = (id: string, credit = 1, rev: number | null = 100) => ({ recordId: id, credit, revenueMinor: rev });

describe('attribution checker', () => {
  it('passes when the output is exactly the model', () => {
    const r = checkAttribution(
      [e('c1:linear:t1', 0.5, 50), e('c1:linear:t2', 0.5, 50)],
      [o('c1:linear:t2', 0.5, 50), o('c1:linear:t1', 0.5, 50)],
      true,
    );
    expect(r.valid).toBe(true);
    expect(r.counts).toMatchObject({ expected: 2, matched: 2, lost: 0, duplicated: 0, unexpected: 0 });
  });
  it('lost', () => {
    const r = checkAttribution([e('a'), e('b')], [o('a')], true);
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['lost']);
    expect(r.lost).toEqual(['b']);
  });
  it('lost with an incomplete drain is unknown, not false', () => {
    const r = checkAttribution([e('a'), e('b')], [o('a')], false);
    expect(r.valid).toBe('unknown');
  });
  it('duplicated', () => {
    const r = checkAttribution([e('a')], [o('a'), o('a'), o('a')], true);
    expect(r.anomalyTypes).toEqual(['duplicated']);
    expect(r.duplicated).toEqual([{ recordId: 'a', count: 3 }]);
  });
  it('unexpected: a record the model does not make, a wrong credit, a wrong revenue share', () => {
    const r = checkAttribution([e('a', 0.25, 25), e('b', 0.75, 75)], [o('a', 0.3, 25), o('b', 0.75, 74), o('z')], true);
    expect(r.anomalyTypes).toEqual(['unexpected']);
    expect(r.counts).toMatchObject({ unexpected: 3, wrongCredit: 2 });
    expect(r.unexpected.map((u) => u.recordId)).toEqual(['a', 'b', 'z']);
  });
  it('credits within the tolerance match', () => {
    expect(checkAttribution([e('a', 1 / 3)], [o('a', 1 / 3 + 1e-12)], true).valid).toBe(true);
  });
  it('property: any permutation of the exact model output passes', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1 }), { minLength: 1 }), fc.integer(), (ids, seed) => {
        const expected = ids.map((id, i) => e(id, i / ids.length, i));
        const observed = expected.map((x) => o(x.record_id, x.credit, x.revenue_credit_minor));
        const rot = Math.abs(seed) % observed.length;
        expect(checkAttribution(expected, [...observed.slice(rot), ...observed.slice(0, rot)], true).valid).toBe(true);
      }),
    );
  });
});
