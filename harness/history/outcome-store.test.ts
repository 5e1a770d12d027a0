import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { History } from './history.ts';
import { OutcomeStore } from './outcome-store.ts';
import { OUTCOMES, type Outcome } from './record.ts';

interface Op {
  readonly producer: number;
  readonly seq: number;
  readonly bad: boolean;
  readonly outcome: Outcome | undefined;
}

const op = fc.record({
  producer: fc.integer({ min: 0, max: 2 }),
  seq: fc.integer({ min: 0, max: 100 }),
  bad: fc.boolean(),
  outcome: fc.option(fc.constantFrom<Outcome>(...OUTCOMES), { nil: undefined }),
});

function apply(store: OutcomeStore, ops: readonly Op[]): OutcomeStore {
  for (const o of ops) {
    store.offer(o.producer, o.seq, o.bad);
    if (o.outcome !== undefined) store.resolve(o.producer, o.seq, o.outcome);
  }
  return store;
}

function badSeqs(store: OutcomeStore): string[] {
  return store.producers().flatMap((p) => [...store.get(p)!.bad.setBits()].map((seq) => `${p}-${seq}`));
}

describe('OutcomeStore bad offers', () => {
  it('marks the offers that carried a bad event', () => {
    const s = new OutcomeStore();
    s.offer(0, 3, true);
    s.offer(0, 4);
    s.offer(1, 40, true);
    expect(s.isBad(0, 3)).toBe(true);
    expect(s.isBad(0, 4)).toBe(false);
    expect(s.isBad(1, 40)).toBe(true);
    expect(s.isBad(2, 0)).toBe(false);
    expect(s.badCount()).toBe(2);
    expect([...s.badWords(0)]).toEqual([1 << 3]);
    expect(s.badWords(1)).toHaveLength(2);
    expect(s.badWords(9)).toHaveLength(0);
    // A bad offer is an offer; an outcome does not unmark it.
    expect(s.get(0)!.offered.get(3)).toBe(true);
    s.resolve(0, 3, 'failed');
    expect(s.isBad(0, 3)).toBe(true);
  });

  it('JSON omits the bad bitset when no offer was bad, and reads its absence as none', () => {
    const s = new OutcomeStore();
    s.offer(0, 0);
    s.resolve(0, 0, 'acked');
    const json = s.toJSON();
    expect(json.producers[0]).not.toHaveProperty('bad');
    const back = OutcomeStore.fromJSON(JSON.parse(JSON.stringify(json)));
    expect(back.badCount()).toBe(0);
    expect(back.isBad(0, 0)).toBe(false);
    // A store read back still records bad offers.
    back.offer(0, 1, true);
    expect(back.isBad(0, 1)).toBe(true);
  });

  it('a bad bitset that is not one is an error naming its path', () => {
    const s = new OutcomeStore();
    s.offer(0, 0, true);
    const json = JSON.parse(JSON.stringify(s.toJSON()));
    json.producers[0].bad = { size: 'x' };
    expect(() => OutcomeStore.fromJSON(json)).toThrowError(/outcomes\.producers\[0\]\.bad/);
    json.producers[0].bad = null;
    expect(() => OutcomeStore.fromJSON(json, 'h.outcomes')).toThrowError(/h\.outcomes\.producers\[0\]\.bad/);
  });

  it('the bad bitset survives toJSON / fromJSON and a History round trip', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const s = apply(new OutcomeStore(), ops);
        const back = OutcomeStore.fromJSON(JSON.parse(JSON.stringify(s.toJSON())));
        expect(badSeqs(back)).toEqual(badSeqs(s));
        expect(back.badCount()).toBe(s.badCount());
        expect(back.counts()).toEqual(s.counts());
        expect(back.toJSON()).toEqual(s.toJSON());
      }),
    );
    const h = new History();
    h.record({ kind: 'offered', time: 0, eventId: '0-5', userId: 'u', userSeq: 0, sentAt: 0, bad: true });
    h.record({ kind: 'offered', time: 0, eventId: '0-6', userId: 'u', userSeq: 1, sentAt: 0, bad: false });
    const back = History.fromJSON(JSON.parse(JSON.stringify(h.toJSON())));
    expect(back.outcomes.isBad(0, 5)).toBe(true);
    expect(back.outcomes.isBad(0, 6)).toBe(false);
  });

  it('merging unions the bad bitsets: equal to recording everything into one store', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 150 }), fc.nat(), (ops, cut) => {
        const k = ops.length === 0 ? 0 : cut % (ops.length + 1);
        const whole = apply(new OutcomeStore(), ops);
        const ab = apply(new OutcomeStore(), ops.slice(0, k)).merge(apply(new OutcomeStore(), ops.slice(k)));
        const ba = apply(new OutcomeStore(), ops.slice(k)).merge(apply(new OutcomeStore(), ops.slice(0, k)));
        for (const merged of [ab, ba]) {
          expect(badSeqs(merged)).toEqual(badSeqs(whole));
          expect(merged.badCount()).toBe(whole.badCount());
          expect(merged.counts()).toEqual(whole.counts());
        }
      }),
    );
  });

  it('counts the bad bitset in its bytes', () => {
    const s = new OutcomeStore();
    s.offer(0, 0);
    const before = s.byteLength;
    s.offer(0, 1000, true);
    expect(s.byteLength).toBeGreaterThan(before);
    expect(s.byteLength).toBe(
      ['offered', 'acked', 'failed', 'unknown', 'bad'].reduce(
        (n, k) => n + (s.get(0)![k as 'offered'] as { byteLength: number }).byteLength,
        0,
      ),
    );
  });
});
