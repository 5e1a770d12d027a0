import { describe, expect, it } from 'vitest';
import { attribute } from './attribute.ts';
import { modelWeights, recordId, type StoredTouch } from './credit.ts';
import { click, conversion, DAY, impression, T0 } from './test-support.ts';
import type { AttributionModel, AttributionRecord } from './types.ts';

/** Records of one model, as [touch_event_id, credit, revenue_credit_minor] for compact expectations. */
function byModel(records: readonly AttributionRecord[], model: AttributionModel) {
  return records.filter((r) => r.model === model).map((r) => [r.touch_event_id, r.credit, r.revenue_credit_minor]);
}

function credits(records: readonly AttributionRecord[], model: AttributionModel): number[] {
  return records.filter((r) => r.model === model).map((r) => r.credit);
}

/** n clicks one day apart, ending one day before a $100.00 conversion at T0. */
function journey(n: number) {
  const touches = Array.from({ length: n }, (_, i) => click(i + 1, T0 - (n - i) * DAY));
  return attribute([...touches, conversion(n + 1, T0, 100)]).records;
}

describe('last-touch and first-touch', () => {
  it('credit the latest and the earliest touch by event time, whole revenue', () => {
    const records = journey(3);
    expect(byModel(records, 'last-touch')).toEqual([['u1-3', 1, 10000]]);
    expect(byModel(records, 'first-touch')).toEqual([['u1-1', 1, 10000]]);
  });

  it('order touches by event time, not arrival, and break time ties by user_seq', () => {
    const records = attribute(
      [
        click(1, T0 - 1 * DAY), // arrives first, happened last
        click(2, T0 - 5 * DAY),
        click(3, T0 - 5 * DAY), // same time as seq 2: later by user_seq
        conversion(4, T0),
      ],
      { allowedLatenessMs: 7 * DAY },
    ).records; // the default (1 day) would reject seq 2 and 3 as late
    expect(byModel(records, 'last-touch')).toEqual([['u1-1', 1, 10000]]);
    expect(byModel(records, 'first-touch')).toEqual([['u1-2', 1, 10000]]);
    expect(records.filter((r) => r.model === 'linear').map((r) => r.touch_event_id)).toEqual(['u1-2', 'u1-3', 'u1-1']);
  });
});

describe('linear', () => {
  it('splits evenly; leftover cents go to the earliest touches', () => {
    const records = attribute([
      click(1, T0 - 3 * DAY),
      click(2, T0 - 2 * DAY),
      click(3, T0 - DAY),
      conversion(4, T0, 10),
    ]).records;
    expect(byModel(records, 'linear')).toEqual([
      ['u1-1', 1 / 3, 334],
      ['u1-2', 1 / 3, 333],
      ['u1-3', 1 / 3, 333],
    ]);
    expect(records.filter((r) => r.model === 'linear').map((r) => r.revenue_credit)).toEqual([3.34, 3.33, 3.33]);
  });

  it('splits in whole units of the currency: yen have no cents, dinars have three decimals', () => {
    const three = [click(1, T0 - 3 * DAY), click(2, T0 - 2 * DAY), click(3, T0 - DAY)];
    const yen = attribute([...three, conversion(4, T0, 1000, 'JPY')]).records;
    expect(yen.filter((r) => r.model === 'linear').map((r) => r.revenue_credit)).toEqual([334, 333, 333]);
    const dinar = attribute([...three, conversion(4, T0, 1, 'KWD')]).records;
    expect(dinar.filter((r) => r.model === 'linear').map((r) => r.revenue_credit)).toEqual([0.334, 0.333, 0.333]);
  });
});

describe('time-decay (half-life 7 days)', () => {
  it('weights 2^(-age/7d): touches 14, 7 and 0 days old get 1/7, 2/7, 4/7', () => {
    const records = attribute([
      click(1, T0 - 14 * DAY),
      click(2, T0 - 7 * DAY),
      click(3, T0),
      conversion(4, T0, 100),
    ]).records;
    const got = byModel(records, 'time-decay');
    expect(got.map(([id]) => id)).toEqual(['u1-1', 'u1-2', 'u1-3']);
    const c = credits(records, 'time-decay');
    expect(c[0]).toBeCloseTo(1 / 7, 12);
    expect(c[1]).toBeCloseTo(2 / 7, 12);
    expect(c[2]).toBeCloseTo(4 / 7, 12);
    // Quotas 1428.57, 2857.14, 5714.29 cents: floors sum to 9999, the cent goes to the largest remainder (.57).
    expect(got.map(([, , minor]) => minor)).toEqual([1429, 2857, 5714]);
  });

  it('agrees with the textbook formula relative to the conversion time, also when no touch is at conversion time', () => {
    // Ages 10.5 and 3.5 days: weights 2^-1.5 = 0.35355339059327373 and 2^-0.5 = 0.7071067811865476, ratio 1:2.
    const records = attribute([click(1, T0 - 10.5 * DAY), click(2, T0 - 3.5 * DAY), conversion(3, T0, 1)]).records;
    const c = credits(records, 'time-decay');
    const w = [2 ** -1.5, 2 ** -0.5];
    expect(c[0]).toBeCloseTo(w[0]! / (w[0]! + w[1]!), 12);
    expect(c[1]).toBeCloseTo(w[1]! / (w[0]! + w[1]!), 12);
    expect(c[0]).toBeCloseTo(1 / 3, 12);
    expect(byModel(records, 'time-decay').map(([, , minor]) => minor)).toEqual([33, 67]);
  });

  it('does not underflow when the lookback is many half-lives long', () => {
    const records = attribute([click(1, T0 - 300 * DAY), click(2, T0 - 299 * DAY), conversion(3, T0, 1)], {
      lookbackMs: 365 * DAY,
      halfLifeMs: 60_000,
      allowedLatenessMs: 0,
    }).records;
    expect(credits(records, 'time-decay')).toEqual([0, 1]);
  });
});

describe('position-based (40/20/40)', () => {
  const expected: Record<number, { credits: number[]; cents: number[] }> = {
    1: { credits: [1], cents: [10000] },
    2: { credits: [0.5, 0.5], cents: [5000, 5000] },
    3: { credits: [0.4, 0.2, 0.4], cents: [4000, 2000, 4000] },
    5: { credits: [0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.4], cents: [4000, 667, 667, 666, 4000] },
  };
  for (const [n, want] of Object.entries(expected)) {
    it(`with ${n} touch(es): ${want.credits.map((c) => `${(c * 100).toFixed(2)}%`).join(' / ')}`, () => {
      const records = journey(Number(n));
      const c = credits(records, 'position-based');
      expect(c).toHaveLength(want.credits.length);
      c.forEach((credit, i) => {
        expect(credit).toBeCloseTo(want.credits[i]!, 15);
      });
      expect(byModel(records, 'position-based').map(([, , minor]) => minor)).toEqual(want.cents);
    });
  }

  it('uses integer weights 2(n-2), 1, ..., 1, 2(n-2)', () => {
    const touches = [1, 2, 3, 4, 5].map(
      (s): StoredTouch => ({
        event_id: `t${s}`,
        user_seq: s,
        type: 'click',
        channel: 'email',
        campaign: '',
        event_time: s,
      }),
    );
    expect(modelWeights('position-based', touches, 1)).toEqual([6, 1, 1, 1, 6]);
    expect(modelWeights('position-based', touches.slice(0, 2), 1)).toEqual([1, 1]);
  });
});

describe('records', () => {
  it('carry the touch and conversion facts, in canonical model order', () => {
    const records = attribute([
      impression(1, T0 - DAY, { channel: 'display', campaign: 'spring' }),
      conversion(2, T0, 25.5, 'EUR'),
    ]).records;
    expect(records.map((r) => r.model)).toEqual([
      'last-touch',
      'first-touch',
      'linear',
      'time-decay',
      'position-based',
    ]);
    expect(records[0]).toEqual({
      record_id: 'u1-2:last-touch:u1-1',
      conversion_id: 'u1-2',
      user_id: 'u1',
      model: 'last-touch',
      touch_event_id: 'u1-1',
      touch_type: 'impression',
      channel: 'display',
      campaign: 'spring',
      credit: 1,
      revenue_credit: 25.5,
      revenue_credit_minor: 2550,
      currency: 'EUR',
      conversion_time: T0,
      touch_time: T0 - DAY,
    });
  });

  it('without revenue carry null revenue fields', () => {
    const [record] = attribute([click(1, T0 - DAY), conversion(2, T0, null)]).records;
    expect(record).toMatchObject({ revenue_credit: null, revenue_credit_minor: null, currency: null, credit: 1 });
  });

  it('credit a direct / (none) pseudo-touch when no touch is in the window', () => {
    const records = attribute([conversion(1, T0, 42)]).records;
    expect(records).toHaveLength(5);
    for (const r of records) {
      expect(r).toMatchObject({
        record_id: `u1-1:${r.model}:(none)`,
        touch_event_id: null,
        touch_type: null,
        touch_time: null,
        channel: 'direct',
        campaign: '(none)',
        credit: 1,
        revenue_credit_minor: 4200,
      });
    }
  });

  it('emit only the models asked for, in canonical order', () => {
    const records = attribute([click(1, T0 - DAY), conversion(2, T0)], {
      models: ['position-based', 'last-touch'],
    }).records;
    expect(records.map((r) => r.model)).toEqual(['last-touch', 'position-based']);
  });

  it('have ids that stay unambiguous when event ids contain the separator', () => {
    expect(recordId('a:b', 'linear', 'c')).toBe('a%3Ab:linear:c');
    expect(recordId('a', 'linear', 'b:c')).toBe('a:linear:b%3Ac');
    expect(recordId('50%', 'linear', null)).toBe('50%25:linear:(none)');
  });
});
