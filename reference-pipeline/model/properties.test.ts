/**
 * Properties of the model over generated traffic: the invariants the checker relies on when it uses this model as the
 * reference. Times are small integers and the windows are scaled down with them (lookback, lateness and half-life of
 * tens of milliseconds), so boundaries, late events, pruning and the touch cap are all hit often.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attribute } from './attribute.ts';
import { toMinorUnits } from './money.ts';
import { type AttributionOptions, type ResolvedAttributionOptions, resolveOptions } from './options.ts';
import {
  ATTRIBUTION_MODELS,
  type AttributionInput,
  type AttributionRecord,
  CHANNELS,
  type Rejection,
  TOUCH_TYPES,
} from './types.ts';
import { applyEvent, createUserState, deserializeState, serializeState, type UserState } from './user-state.ts';

const CURRENCIES = [
  ['USD', 2],
  ['JPY', 0],
  ['KWD', 3],
] as const;

/** Multiples of 10 up to 10·max: times and windows on a shared grid land exactly on window and lateness bounds. */
const coarse = (max: number) => fc.integer({ min: 0, max }).map((n) => n * 10);

const optionsArb: fc.Arbitrary<AttributionOptions> = fc.record(
  {
    lookbackMs: fc.oneof(fc.integer({ min: 0, max: 60 }), coarse(6)),
    halfLifeMs: fc.integer({ min: 1, max: 60 }),
    touchTypes: fc.subarray([...TOUCH_TYPES], { minLength: 1 }),
    maxTouches: fc.integer({ min: 1, max: 8 }),
    allowedLatenessMs: fc.oneof(fc.integer({ min: 0, max: 60 }), coarse(6), fc.constant(Number.POSITIVE_INFINITY)),
    models: fc.subarray([...ATTRIBUTION_MODELS], { minLength: 1 }),
  },
  { requiredKeys: [] },
);

const stepArb = fc.record({
  type: fc.constantFrom('impression', 'impression', 'click', 'click', 'conversion' as const),
  seqGap: fc.integer({ min: 1, max: 3 }),
  time: fc.oneof(fc.integer({ min: 0, max: 150 }), coarse(15)),
  channel: fc.constantFrom(...CHANNELS),
  campaign: fc.constantFrom('', 'spring', 'a:b', '50%'),
  money: fc.option(fc.tuple(fc.integer({ min: 0, max: 2_000_000 }), fc.constantFrom(...CURRENCIES)), { freq: 3 }),
  // One event in ten is redelivered (same user_seq): it must be rejected, never double-counted.
  duplicate: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
});
type Step = typeof stepArb extends fc.Arbitrary<infer S> ? S : never;

/** One user's events in user_seq order (duplicates, when drawn, follow the original with the same seq). */
function userEvents(user: string, steps: readonly Step[]): AttributionInput[] {
  const events: AttributionInput[] = [];
  let seq = 0;
  for (const step of steps) {
    seq += step.seqGap;
    const conversion = step.type === 'conversion';
    const event: AttributionInput = {
      event_id: `${user}#${seq}`,
      user_id: user,
      user_seq: seq,
      type: step.type,
      channel: step.channel,
      campaign: step.campaign,
      event_time: 1_000 + step.time,
      revenue: conversion && step.money !== null ? step.money[0] / 10 ** step.money[1][1] : null,
      currency: conversion && step.money !== null ? step.money[1][0] : null,
    };
    events.push(event);
    if (step.duplicate) events.push({ ...event });
  }
  return events;
}

const trafficArb = fc
  .uniqueArray(fc.constantFrom('alice', 'bob', 'c:3', 'dave%'), { minLength: 1, maxLength: 4 })
  .chain((users) =>
    fc.tuple(...users.map((user) => fc.array(stepArb, { maxLength: 30 }).map((steps) => userEvents(user, steps)))),
  );

/** A random interleaving of per-user streams that keeps each user's own order. */
function interleavingArb(streams: readonly AttributionInput[][]): fc.Arbitrary<AttributionInput[]> {
  const picks = streams.flatMap((s, i) => s.map(() => i));
  return fc.shuffledSubarray(picks, { minLength: picks.length, maxLength: picks.length }).map((order) => {
    const cursors = streams.map(() => 0);
    return order.map((i) => {
      const event = streams[i]?.[cursors[i] ?? 0] as AttributionInput;
      cursors[i] = (cursors[i] ?? 0) + 1;
      return event;
    });
  });
}

/** What the attributor does: one state per user, events applied in arrival order, optional snapshot/restore. */
function stream(
  events: readonly AttributionInput[],
  options: ResolvedAttributionOptions,
  restoreAt = new Set<number>(),
) {
  const states = new Map<string, UserState>();
  const outputs = new Map<string, AttributionRecord[]>();
  const rejections = new Map<string, Rejection[]>();
  events.forEach((event, index) => {
    let state = states.get(event.user_id) ?? createUserState();
    // The attributor restarting: the only thing that survives is the changelog value.
    if (restoreAt.has(index)) state = deserializeState(serializeState(state));
    const result = applyEvent(state, event, options);
    states.set(event.user_id, result.state);
    outputs.set(event.user_id, [...(outputs.get(event.user_id) ?? []), ...result.outputs]);
    if (result.rejection) rejections.set(event.user_id, [...(rejections.get(event.user_id) ?? []), result.rejection]);
  });
  return { outputs, rejections };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

const conversionsOf = (events: readonly AttributionInput[]) => new Map(events.map((e) => [e.event_id, e]));

describe('attribution model properties', () => {
  it('credits of a conversion sum to 1 per model, and every applied conversion is credited by every model', () => {
    fc.assert(
      fc.property(trafficArb, optionsArb, (streams, raw) => {
        const options = resolveOptions(raw);
        const events = streams.flat();
        const { records, rejections } = attribute(events, options);
        const rejected = new Set(rejections.map((r) => r.event));
        const applied = events.filter((e) => e.type === 'conversion' && !rejected.has(e));
        const groups = groupBy(records, (r) => `${r.conversion_id}|${r.model}`);
        expect(groups.size).toBe(applied.length * options.models.length);
        for (const group of groups.values()) {
          const sum = group.reduce((a, r) => a + r.credit, 0);
          expect(Math.abs(sum - 1)).toBeLessThanOrEqual(1e-9);
          for (const r of group) expect(r.credit).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });

  it('revenue credits sum exactly to the revenue, in whole minor units', () => {
    fc.assert(
      fc.property(trafficArb, optionsArb, (streams, raw) => {
        const options = resolveOptions(raw);
        const events = streams.flat();
        const byId = conversionsOf(events);
        for (const group of groupBy(
          attribute(events, options).records,
          (r) => `${r.conversion_id}|${r.model}`,
        ).values()) {
          const conversion = byId.get(group[0]?.conversion_id ?? '') as AttributionInput;
          if (conversion.revenue === null) {
            for (const r of group)
              expect([r.revenue_credit, r.revenue_credit_minor, r.currency]).toEqual([null, null, null]);
            continue;
          }
          const exponent = options.currencyExponents[conversion.currency ?? ''] ?? 2;
          const total = group.reduce((a, r) => a + (r.revenue_credit_minor ?? Number.NaN), 0);
          expect(total).toBe(toMinorUnits(conversion.revenue, exponent));
          for (const r of group) {
            expect(Number.isSafeInteger(r.revenue_credit_minor)).toBe(true);
            expect(r.revenue_credit).toBe((r.revenue_credit_minor ?? 0) / 10 ** exponent);
            expect(r.currency).toBe(conversion.currency);
          }
        }
      }),
    );
  });

  it('never credits a touch outside [conversion_time - lookbackMs, conversion_time] or of a disabled type', () => {
    fc.assert(
      fc.property(trafficArb, optionsArb, (streams, raw) => {
        const options = resolveOptions(raw);
        for (const r of attribute(streams.flat(), options).records) {
          if (r.touch_time === null) continue;
          expect(r.touch_time).toBeGreaterThanOrEqual(r.conversion_time - options.lookbackMs);
          expect(r.touch_time).toBeLessThanOrEqual(r.conversion_time);
          expect(options.touchTypes).toContain(r.touch_type);
        }
      }),
    );
  });

  it('credits exactly the window a full-history oracle computes (pruning and restore change nothing)', () => {
    fc.assert(
      fc.property(trafficArb, optionsArb, (streams, raw) => {
        // A cap above the stream length, so the only state reduction left is pruning, which must be invisible.
        const options = resolveOptions({ ...raw, maxTouches: 1_000, models: ['linear'] });
        const { records } = attribute(streams.flat(), options);
        const expected: string[] = [];
        for (const events of streams) {
          const kept: AttributionInput[] = [];
          let lastSeq = -1;
          let max = Number.NEGATIVE_INFINITY;
          for (const e of events) {
            if (e.user_seq <= lastSeq) continue;
            lastSeq = e.user_seq;
            if (e.event_time < max - options.allowedLatenessMs) continue;
            max = Math.max(max, e.event_time);
            if (e.type !== 'conversion') {
              if (options.touchTypes.includes(e.type)) kept.push(e);
              continue;
            }
            const window = kept
              .filter((t) => t.event_time >= e.event_time - options.lookbackMs && t.event_time <= e.event_time)
              .sort((a, b) => a.event_time - b.event_time || a.user_seq - b.user_seq);
            if (window.length === 0) expected.push(`${e.event_id} <- (none)`);
            for (const t of window) expected.push(`${e.event_id} <- ${t.event_id}`);
          }
        }
        const got = records.map((r) => `${r.conversion_id} <- ${r.touch_event_id ?? '(none)'}`);
        expect([...got].sort()).toEqual([...expected].sort());
      }),
    );
  });

  it('gives the same per-user outputs however users interleave, streamed or batched', () => {
    fc.assert(
      fc.property(
        trafficArb.chain((streams) => fc.tuple(fc.constant(streams), interleavingArb(streams))),
        optionsArb,
        ([streams, interleaved], raw) => {
          const options = resolveOptions(raw);
          const batch = attribute(streams.flat(), options);
          // The batch is canonical: its input order does not matter at all.
          expect(attribute(interleaved, options)).toEqual(batch);
          // The stream processor sees the interleaving; per user it must produce exactly the batch's records.
          const live = stream(interleaved, options);
          const byUser = groupBy(batch.records, (r) => r.user_id);
          for (const events of streams) {
            const user = events[0]?.user_id ?? '';
            expect(live.outputs.get(user) ?? []).toEqual(byUser.get(user) ?? []);
            expect(live.rejections.get(user) ?? []).toEqual(batch.rejections.filter((r) => r.event.user_id === user));
          }
        },
      ),
    );
  });

  it('gives the same outputs when state is snapshotted and restored at any points', () => {
    fc.assert(
      fc.property(
        trafficArb.chain((streams) => fc.tuple(fc.constant(streams), interleavingArb(streams))),
        fc.array(fc.nat({ max: 200 }), { maxLength: 20 }),
        optionsArb,
        ([, interleaved], cuts, raw) => {
          const options = resolveOptions(raw);
          const uninterrupted = stream(interleaved, options);
          const restored = stream(interleaved, options, new Set(cuts));
          expect(restored).toEqual(uninterrupted);
        },
      ),
    );
  });

  it('produces JSON-stable records with unique ids', () => {
    fc.assert(
      fc.property(trafficArb, optionsArb, (streams, raw) => {
        const { records } = attribute(streams.flat(), raw);
        expect(JSON.parse(JSON.stringify(records))).toEqual(records);
        expect(new Set(records.map((r) => r.record_id)).size).toBe(records.length);
      }),
    );
  });
});
