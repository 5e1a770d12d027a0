import { describe, expect, it } from 'vitest';
import { attribute } from './attribute.ts';
import { AttributionModelError } from './errors.ts';
import { click, conversion, DAY, T0 } from './test-support.ts';
import type { AttributionInput } from './types.ts';

describe('attribute', () => {
  it('orders output by user_id (code units), then user_seq, whatever the input order', () => {
    const events = [
      conversion(4, T0, 1, 'USD', { user: 'b' }),
      click(2, T0 - DAY, { user: 'B' }),
      conversion(3, T0, 1, 'USD', { user: 'B' }),
      click(1, T0 - DAY, { user: 'b' }),
    ];
    const { records } = attribute(events, { models: ['last-touch'] });
    // 'B' (0x42) sorts before 'b' (0x62): a locale compare would not promise that.
    expect(records.map((r) => r.record_id)).toEqual(['B-3:last-touch:B-2', 'b-4:last-touch:b-1']);
  });

  it('sorts each user by user_seq, applies the first of equal user_seq and rejects the rest', () => {
    const events = [conversion(3, T0), click(1, T0 - DAY), click(1, T0 - 2 * DAY, { id: 'redelivered' })];
    const { records, rejections } = attribute(events, { models: ['linear'] });
    expect(records.map((r) => r.touch_event_id)).toEqual(['u1-1']);
    expect(rejections.map((r) => [r.event.event_id, r.reason])).toEqual([['redelivered', 'user-seq-not-increasing']]);
  });

  it('rejects events it cannot route to a user first, in input order, without throwing', () => {
    const events = [
      click(1, T0),
      { ...click(2, T0), user_id: '' },
      { ...click(3, T0), user_seq: -1 },
      'garbage',
    ] as unknown as AttributionInput[];
    const { rejections } = attribute(events);
    expect(rejections.map((r) => [r.kind, r.field])).toEqual([
      ['invalid', 'user_id'],
      ['invalid', 'user_seq'],
      ['invalid', 'event'],
    ]);
  });

  it('validates options once, naming the field', () => {
    expect(() => attribute([], { maxTouches: 0 })).toThrow(AttributionModelError);
    expect(() => attribute([], { maxTouches: 0 })).toThrow(/^options\.maxTouches: /);
  });

  it('returns the late events for dead-lettering beside the records', () => {
    const { records, rejections } = attribute([click(1, T0), conversion(2, T0 - 2 * DAY), conversion(3, T0)], {
      models: ['first-touch'],
    });
    expect(records.map((r) => r.conversion_id)).toEqual(['u1-3']);
    expect(rejections.map((r) => [r.kind, r.event.event_id])).toEqual([['late', 'u1-2']]);
  });
});
