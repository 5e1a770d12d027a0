import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { History, historyOf } from './history.ts';
import { ObservationStore } from './observation-store.ts';
import { OrderStore } from './order-store.ts';
import { OutcomeStore } from './outcome-store.ts';
import { formatEventId, OUTCOMES, type Outcome } from './record.ts';

describe('OutcomeStore', () => {
  it('a definite outcome replaces unknown; unknown never replaces a definite one', () => {
    const s = new OutcomeStore();
    s.offer(0, 0);
    expect(s.resolve(0, 0, 'unknown')).toBe(true);
    expect(s.resolve(0, 0, 'acked')).toBe(true);
    expect(s.resolve(0, 0, 'unknown')).toBe(false);
    expect(s.resolve(0, 0, 'acked')).toBe(false);
    s.offer(0, 1);
    expect(s.counts()).toEqual({ offered: 2, acked: 1, failed: 0, unknown: 0, unresolved: 1 });
  });

  it('merging equals recording everything into one store, in any split and order', () => {
    const op = fc.record({
      producer: fc.integer({ min: 0, max: 2 }),
      seq: fc.integer({ min: 0, max: 80 }),
      outcome: fc.option(fc.constantFrom<Outcome>(...OUTCOMES), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 150 }), fc.nat(), (ops, cut) => {
        const apply = (store: OutcomeStore, xs: typeof ops) => {
          for (const o of xs) {
            if (o.outcome === undefined) store.offer(o.producer, o.seq);
            else store.resolve(o.producer, o.seq, o.outcome);
          }
          return store;
        };
        const k = ops.length === 0 ? 0 : cut % (ops.length + 1);
        const whole = apply(new OutcomeStore(), ops);
        const merged = apply(new OutcomeStore(), ops.slice(k)).merge(apply(new OutcomeStore(), ops.slice(0, k)));
        expect(merged.counts()).toEqual(whole.counts());
        for (const p of whole.producers()) {
          for (const bits of ['offered', 'acked', 'failed', 'unknown'] as const) {
            expect(merged.get(p)![bits].equals(whole.get(p)![bits]), `${p}.${bits}`).toBe(true);
          }
        }
        const back = OutcomeStore.fromJSON(JSON.parse(JSON.stringify(whole)));
        expect(back.counts()).toEqual(whole.counts());
      }),
    );
  });
});

describe('ObservationStore', () => {
  it('counts sightings exactly: once, twice, and beyond in the small map', () => {
    const s = new ObservationStore();
    expect(s.observe(1, 5)).toBe(1);
    expect(s.observe(1, 5)).toBe(2);
    expect(s.observe(1, 5)).toBe(3);
    expect(s.observe(1, 5)).toBe(4);
    expect(s.sightings(1, 5)).toBe(4);
    expect(s.sightings(1, 6)).toBe(0);
    expect([...s.counts]).toEqual([['1-5', 4]]);
  });

  it('merge keeps exact counts across any split of the sightings', () => {
    const sighting = fc.record({ producer: fc.integer({ min: 0, max: 1 }), seq: fc.integer({ min: 0, max: 40 }) });
    fc.assert(
      fc.property(fc.array(sighting, { maxLength: 200 }), fc.array(fc.boolean(), { maxLength: 200 }), (xs, side) => {
        const whole = new ObservationStore();
        const a = new ObservationStore();
        const b = new ObservationStore();
        xs.forEach((x, i) => {
          whole.observe(x.producer, x.seq);
          (side[i] ? a : b).observe(x.producer, x.seq);
        });
        a.merge(b);
        for (let p = 0; p <= 1; p++) {
          for (let s = 0; s <= 40; s++) expect(a.sightings(p, s), formatEventId(p, s)).toBe(whole.sightings(p, s));
        }
        expect(Object.fromEntries(a.counts)).toEqual(Object.fromEntries(whole.counts));
        const back = ObservationStore.fromJSON(JSON.parse(JSON.stringify(whole)));
        for (let s = 0; s <= 40; s++) expect(back.sightings(0, s)).toBe(whole.sightings(0, s));
      }),
    );
  });

  it('caps unexpected ids and undecodable examples but counts them all', () => {
    const s = new ObservationStore({ maxUnexpectedIds: 2, maxUndecodableExamples: 1 });
    for (const id of ['x', 'y', 'z']) s.observeUnexpectedId(id);
    const u = { partition: 0, offset: 0, time: 0, key: undefined, raw: undefined, decodeError: 'bad' };
    s.observeUndecodable(u);
    s.observeUndecodable(u);
    expect(s.unexpectedIds).toEqual(['x', 'y']);
    expect(s.unexpectedIdCount).toBe(3);
    expect(s.undecodableExamples.length).toBe(1);
    expect(s.undecodableCount).toBe(2);
  });
});

describe('OrderStore', () => {
  it('flags a user_seq that goes backwards or repeats, once per late record', () => {
    const s = new OrderStore();
    s.observe(0, 'u', 1, '0-1', 0, 0);
    s.observe(0, 'u', 3, '0-3', 1, 0);
    s.observe(0, 'u', 2, '0-2', 2, 0);
    s.observe(0, 'u', 3, '1-9', 3, 0);
    s.observe(0, 'u', 4, '0-4', 4, 0);
    expect(s.violationCount).toBe(2);
    expect(s.violations.map((v) => [v.userSeq, v.previousUserSeq])).toEqual([
      [2, 3],
      [3, 3],
    ]);
  });

  it('marks partitions read by two merged workers as overlapping', () => {
    const a = new OrderStore();
    const b = new OrderStore();
    a.observe(0, 'u', 1, '0-1', 0, 0);
    b.observe(1, 'v', 1, '0-2', 0, 0);
    expect(new OrderStore().merge(a).merge(b).overlappingPartitions).toEqual([]);
    const c = new OrderStore();
    c.observe(0, 'u', 2, '0-3', 1, 0);
    expect(a.merge(c).overlappingPartitions).toEqual([0]);
  });
});

describe('History', () => {
  it('rejects a malformed offer with HISTORY_INVALID_RECORD', () => {
    const h = new History();
    expect(() =>
      h.record({ kind: 'offered', time: 0, eventId: 'oops', userId: 'u', userSeq: 0, sentAt: 0 }),
    ).toThrowError(expect.objectContaining({ code: 'HISTORY_INVALID_RECORD' }));
    expect(() =>
      h.record({ kind: 'offered', time: Number.NaN, eventId: '0-0', userId: 'u', userSeq: 0, sentAt: 0 }),
    ).toThrowError(/finite/);
  });

  it('pairs fault starts and heals into windows, and merges them by id', () => {
    const a = historyOf([
      { kind: 'fault', time: 1000, phase: 'start', faultId: 'f1', fault: 'latency', target: 'broker-1' },
      { kind: 'fault', time: 5000, phase: 'heal', faultId: 'f1', fault: 'latency', target: 'broker-1' },
      { kind: 'fault', time: 7000, phase: 'start', faultId: 'f2', fault: 'kill' },
    ]);
    expect(a.faults).toEqual([
      { faultId: 'f1', fault: 'latency', target: 'broker-1', startedAt: 1000, healedAt: 5000 },
      { faultId: 'f2', fault: 'kill', target: undefined, startedAt: 7000, healedAt: undefined },
    ]);
    const b = historyOf([{ kind: 'fault', time: 9000, phase: 'heal', faultId: 'f2', fault: 'kill' }]);
    expect(a.merge(b).faults[1]).toMatchObject({ faultId: 'f2', startedAt: 7000, healedAt: 9000 });
    const back = History.fromJSON(JSON.parse(JSON.stringify(a)));
    expect(back.faults).toEqual(a.faults);
  });

  it('records latency in µs and reports ms; clamps negative latency and counts it', () => {
    const h = historyOf([
      { kind: 'offered', time: 1000, eventId: '0-0', userId: 'u', userSeq: 0, sentAt: 1000 },
      { kind: 'outcome', time: 1002.5, eventId: '0-0', outcome: 'acked', sentAt: 1000 },
      { kind: 'observed', time: 1012, eventId: '0-0', key: 'u', partition: 0, offset: 0, userSeq: 0, sentAt: 1000 },
      { kind: 'observed', time: 999, eventId: '0-0', key: 'u', partition: 0, offset: 1, userSeq: 0, sentAt: 1000 },
    ]);
    expect(h.latency.ack.maxValue).toBeGreaterThanOrEqual(2500);
    expect(h.latency.ack.maxValue).toBeLessThan(2510);
    expect(h.latency.negative.e2e).toBe(1);
    expect(h.latency.series()[0]).toMatchObject({ second: 0, offered: 0, observed: 1 });
  });

  it('refuses a file of another format or version with a path', () => {
    expect(() => History.fromJSON({ format: 'x' })).toThrowError(/format/);
    expect(() => History.fromJSON({ ...new History().toJSON(), version: 99 })).toThrowError(/version 99/);
  });
});
