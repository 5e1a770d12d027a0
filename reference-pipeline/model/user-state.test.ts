import { describe, expect, it } from 'vitest';
import { AttributionModelError } from './errors.ts';
import { resolveOptions } from './options.ts';
import { click, conversion, DAY, impression, T0 } from './test-support.ts';
import type { AttributionInput, AttributionRecord, Rejection } from './types.ts';
import { applyEvent, createUserState, deserializeState, serializeState, type UserState } from './user-state.ts';

const defaults = resolveOptions();

/** Folds events through applyEvent, as the attributor does for one user. */
function fold(events: readonly AttributionInput[], options = defaults) {
  let state: UserState = createUserState();
  const outputs: AttributionRecord[] = [];
  const rejections: Rejection[] = [];
  for (const event of events) {
    const result = applyEvent(state, event, options);
    state = result.state;
    outputs.push(...result.outputs);
    if (result.rejection) rejections.push(result.rejection);
  }
  return { state, outputs, rejections };
}

const credited = (outputs: readonly AttributionRecord[]) =>
  outputs.filter((r) => r.model === 'linear').map((r) => r.touch_event_id);

describe('lookback window', () => {
  it('includes a touch exactly 30 days before the conversion and excludes one 1 ms older', () => {
    const { outputs } = fold([click(1, T0 - 30 * DAY - 1), click(2, T0 - 30 * DAY), conversion(3, T0)]);
    expect(credited(outputs)).toEqual(['u1-2']);
  });

  it('includes a touch at the conversion time and excludes one after it, even if applied before', () => {
    const options = resolveOptions({ allowedLatenessMs: DAY });
    const { outputs } = fold([click(1, T0), click(2, T0 + 1), conversion(3, T0)], options);
    expect(credited(outputs)).toEqual(['u1-1']);
  });

  it('never credits a touch applied after the conversion (output is append-only)', () => {
    const { outputs } = fold([conversion(1, T0), click(2, T0 - DAY / 2)]);
    expect(credited(outputs)).toEqual([null]);
  });

  it('honours a custom lookback, 0 meaning same-millisecond touches only', () => {
    const options = resolveOptions({ lookbackMs: 0 });
    const { outputs } = fold([click(1, T0 - 1), click(2, T0), conversion(3, T0)], options);
    expect(credited(outputs)).toEqual(['u1-2']);
  });

  it('keeps touches for later conversions: a conversion does not consume them', () => {
    const { outputs } = fold([click(1, T0 - DAY), conversion(2, T0), conversion(3, T0 + DAY)]);
    expect(credited(outputs)).toEqual(['u1-1', 'u1-1']);
  });
});

describe('touch types', () => {
  it('counts impressions and clicks by default, only the listed types otherwise', () => {
    const events = [impression(1, T0 - 2 * DAY), click(2, T0 - DAY), conversion(3, T0)];
    expect(credited(fold(events).outputs)).toEqual(['u1-1', 'u1-2']);
    expect(credited(fold(events, resolveOptions({ touchTypes: ['click'] })).outputs)).toEqual(['u1-2']);
  });
});

describe('late events', () => {
  it('rejects an event more than allowedLatenessMs behind the max event time seen; exactly at the bound is on time', () => {
    const { outputs, rejections } = fold([
      click(1, T0),
      click(2, T0 - DAY), // exactly 1 day behind: applied
      click(3, T0 - DAY - 1), // 1 ms more: late
      conversion(4, T0),
    ]);
    expect(credited(outputs)).toEqual(['u1-2', 'u1-1']);
    expect(rejections).toHaveLength(1);
    expect(rejections[0]).toMatchObject({ kind: 'late', reason: 'late', field: 'event_time' });
    expect(rejections[0]?.event.event_id).toBe('u1-3');
  });

  it('rejects a late conversion without emitting, and advances user_seq past it', () => {
    const result = fold([click(1, T0), conversion(2, T0 - 2 * DAY)]);
    expect(result.outputs).toEqual([]);
    expect(result.rejections.map((r) => r.kind)).toEqual(['late']);
    expect(result.state.last_user_seq).toBe(2);
    expect(result.state.max_event_time).toBe(T0);
  });

  it('never rejects with allowedLatenessMs Infinity', () => {
    const options = resolveOptions({ allowedLatenessMs: Number.POSITIVE_INFINITY });
    const { rejections, outputs } = fold(
      [click(1, T0), click(2, T0 - 20 * DAY), conversion(3, T0 - 10 * DAY)],
      options,
    );
    expect(rejections).toEqual([]);
    expect(credited(outputs)).toEqual(['u1-2']);
  });
});

describe('invalid events', () => {
  it('rejects a user_seq that does not increase, leaving state unchanged', () => {
    const first = fold([click(5, T0)]);
    const again = applyEvent(first.state, click(5, T0), defaults);
    expect(again.state).toBe(first.state);
    expect(again.rejection).toMatchObject({ kind: 'invalid', reason: 'user-seq-not-increasing', field: 'user_seq' });
    expect(applyEvent(first.state, click(4, T0), defaults).rejection?.reason).toBe('user-seq-not-increasing');
  });

  const cases: [string, Partial<Record<keyof AttributionInput, unknown>>, string][] = [
    ['an empty event_id', { event_id: '' }, 'event_id'],
    ['a fractional user_seq', { user_seq: 1.5 }, 'user_seq'],
    ['an unknown type', { type: 'view' }, 'type'],
    ['an unknown channel', { channel: 'tv' }, 'channel'],
    ['a non-string campaign', { campaign: 7 }, 'campaign'],
    ['a non-integer event_time', { event_time: 1.5 }, 'event_time'],
    ['a string event_time', { event_time: '2024-01-01' }, 'event_time'],
    ['revenue on a touch', { revenue: 0 }, 'revenue'],
    ['a currency on a touch', { currency: 'USD' }, 'currency'],
  ];
  for (const [what, patch, field] of cases) {
    it(`rejects ${what}, naming ${field}`, () => {
      const result = applyEvent(createUserState(), { ...click(1, T0), ...patch } as AttributionInput, defaults);
      expect(result.rejection).toMatchObject({ kind: 'invalid', reason: 'invalid-field', field });
      expect(result.rejection?.message).toMatch(new RegExp(`^${field}: expected`));
      expect(result.state).toBe(createUserState());
    });
  }

  const conversionCases: [string, AttributionInput, string][] = [
    ['negative revenue', conversion(1, T0, -1), 'revenue'],
    ['NaN revenue', conversion(1, T0, Number.NaN), 'revenue'],
    ['revenue without a currency', conversion(1, T0, 10, null), 'currency'],
    ['a lower-case currency', conversion(1, T0, 10, 'usd'), 'currency'],
    ['a currency without revenue', conversion(1, T0, null, 'USD'), 'currency'],
    ['revenue too large for minor units', conversion(1, T0, 1e17, 'USD'), 'revenue'],
  ];
  for (const [what, event, field] of conversionCases) {
    it(`rejects a conversion with ${what}, naming ${field}`, () => {
      expect(applyEvent(createUserState(), event, defaults).rejection).toMatchObject({ kind: 'invalid', field });
    });
  }

  it('rejects a non-object without throwing', () => {
    const result = applyEvent(createUserState(), null as unknown as AttributionInput, defaults);
    expect(result.rejection).toMatchObject({ kind: 'invalid', field: 'event' });
  });
});

describe('state', () => {
  it('is not mutated by applyEvent', () => {
    const before = fold([click(1, T0 - DAY), click(2, T0)]).state;
    const snapshot = structuredClone(before);
    applyEvent(before, click(3, T0 + 1), defaults);
    applyEvent(before, conversion(3, T0 + 1), defaults);
    expect(before).toEqual(snapshot);
  });

  it('prunes touches no future on-time conversion can reach (older than max - lateness - lookback)', () => {
    const events = [click(1, T0 - 31 * DAY - 1), click(2, T0 - 31 * DAY), click(3, T0)];
    const { state } = fold(events);
    // cutoff = T0 - 1 day (lateness) - 30 days (lookback): seq 1 is 1 ms before it, seq 2 exactly at it.
    expect(state.touches.map((t) => t.user_seq)).toEqual([2, 3]);
    // The earliest conversion still on time (T0 - 1 day) reaches seq 2 exactly: pruning must not have dropped it.
    const late = applyEvent(state, conversion(4, T0 - DAY), defaults);
    expect(credited(late.outputs)).toEqual(['u1-2']);
  });

  it('keeps at most maxTouches, dropping the oldest by event time', () => {
    const options = resolveOptions({ maxTouches: 2, allowedLatenessMs: 10 * DAY });
    const { state, outputs } = fold(
      [click(1, T0 - 3 * DAY), click(2, T0 - DAY), click(3, T0 - 5 * DAY), click(4, T0 - 2 * DAY), conversion(5, T0)],
      options,
    );
    expect(state.touches.map((t) => t.user_seq)).toEqual([4, 2]);
    expect(credited(outputs)).toEqual(['u1-4', 'u1-2']);
  });

  it('serialises compactly and round-trips', () => {
    const { state } = fold([impression(1, T0 - DAY, { campaign: 'a:"b"' }), click(2, T0, { channel: 'email' })]);
    const text = serializeState(state);
    expect(text).toBe(
      `{"v":1,"s":2,"m":${T0},"k":[["u1-1",1,"i","search","a:\\"b\\"",${T0 - DAY}],["u1-2",2,"c","email","c2",${T0}]]}`,
    );
    expect(deserializeState(text)).toEqual(state);
    expect(deserializeState(serializeState(createUserState()))).toEqual(createUserState());
  });

  const corrupt: [string, string][] = [
    ['not json', 'state'],
    ['{"v":2,"s":null,"m":null,"k":[]}', 'state.v'],
    ['{"v":1,"s":1.5,"m":1,"k":[]}', 'state.s'],
    ['{"v":1,"s":1,"m":1,"k":{}}', 'state.k'],
    ['{"v":1,"s":1,"m":1,"k":[["e",1,"x","search","",1]]}', 'state.k[0][2]'],
    ['{"v":1,"s":1,"m":1,"k":[["e",1,"c","tv","",1]]}', 'state.k[0][3]'],
    ['{"v":1,"s":2,"m":5,"k":[["e",2,"c","search","",5],["f",1,"c","search","",1]]}', 'state.k[1]'],
    ['{"v":1,"s":1,"m":null,"k":[]}', 'state'],
  ];
  for (const [text, path] of corrupt) {
    it(`refuses a corrupt changelog value, naming ${path}`, () => {
      let error: unknown;
      try {
        deserializeState(text);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AttributionModelError);
      expect(error).toMatchObject({ code: 'MODEL_INVALID_STATE', path });
    });
  }
});
