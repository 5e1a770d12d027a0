import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { History } from '../history/index.ts';
import { checkModel, jsonEquals, type ModelCompare, type ModelOutput, model } from './model.ts';

const exp = (o: Record<string, unknown[]>) => new Map(Object.entries(o));
const out = (...pairs: [string, unknown][]): ModelOutput[] => pairs.map(([key, value]) => ({ key, value }));

describe('model checker, by hand', () => {
  it('last: intermediate updates are free, the last value counts', () => {
    const r = checkModel(exp({ a: [3], b: [1] }), out(['a', 1], ['b', 1], ['a', 2], ['a', 3]), { drainComplete: true });
    expect(r.valid).toBe(true);
    expect(r.counts).toMatchObject({ expectedKeys: 2, observedOutputs: 4, matched: 2, lost: 0, mismatch: 0 });
  });
  it('lost: a key the model produces that never came out', () => {
    const r = checkModel(exp({ a: [1], b: [2] }), out(['a', 1]), { drainComplete: true });
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['lost']);
    expect(r.lost).toEqual([{ key: 'b', expected: 2 }]);
  });
  it('mismatch: examples carry key, expected and observed', () => {
    const r = checkModel(exp({ a: [{ n: 3 }] }), out(['a', { n: 3 }], ['a', { n: 4 }]), { drainComplete: true });
    expect(r.anomalyTypes).toEqual(['mismatch']);
    expect(r.mismatch).toEqual([{ key: 'a', expected: { n: 3 }, observed: { n: 4 } }]);
  });
  it('unexpected: a key the model does not produce', () => {
    const r = checkModel(exp({ a: [1] }), out(['a', 1], ['z', 9]), { drainComplete: true });
    expect(r.anomalyTypes).toEqual(['unexpected']);
    expect(r.unexpected).toEqual([{ key: 'z', observed: 9, reason: 'a key the model does not produce' }]);
  });
  it('once: a key seen twice is duplicated', () => {
    const r = checkModel(exp({ a: [1], b: [2] }), out(['a', 1], ['b', 2], ['a', 1]), {
      compare: 'once',
      drainComplete: true,
    });
    expect(r.anomalyTypes).toEqual(['duplicated']);
    expect(r.duplicated).toEqual([{ key: 'a', count: 2 }]);
  });
  it('sequence: a repeat is duplicated, a skipped output lost, a wrong one mismatch, an extra one unexpected', () => {
    const seq = { compare: 'sequence' as const, drainComplete: true };
    expect(checkModel(exp({ a: [1, 2, 3] }), out(['a', 1], ['a', 2], ['a', 2], ['a', 3]), seq).duplicated).toEqual([
      { key: 'a', value: 2 },
    ]);
    const lost = checkModel(exp({ a: [1, 2, 3] }), out(['a', 1], ['a', 3]), seq);
    expect(lost.anomalyTypes).toEqual(['lost']);
    expect(lost.lost).toEqual([{ key: 'a', expected: 2, index: 1 }]);
    const wrong = checkModel(exp({ a: [1, 2, 3] }), out(['a', 1], ['a', 5], ['a', 3]), seq);
    expect(wrong.anomalyTypes).toEqual(['mismatch']);
    expect(wrong.mismatch).toEqual([{ key: 'a', expected: 2, observed: 5, index: 1 }]);
    const extra = checkModel(exp({ a: [1] }), out(['a', 1], ['a', 7]), seq);
    expect(extra.anomalyTypes).toEqual(['unexpected']);
    const tail = checkModel(exp({ a: [1, 2] }), out(['a', 1]), seq);
    expect(tail.lost).toEqual([{ key: 'a', expected: 2, index: 1 }]);
    expect(checkModel(exp({ a: [1, 2], b: [5] }), out(['b', 5], ['a', 1], ['a', 2]), seq).valid).toBe(true);
  });
  it('an incomplete drain: missing and mismatched are unknown, duplicated and unexpected false', () => {
    const r = checkModel(exp({ a: [1], b: [2] }), out(['a', 0]), { drainComplete: false });
    expect(r.valid).toBe('unknown');
    expect(r.anomalyTypes).toEqual([]);
    expect(r.reason).toMatch(/drain did not complete/);
    expect(r.counts).toMatchObject({ lost: 1, mismatch: 1 });
    const dup = checkModel(exp({ a: [1], b: [2] }), out(['a', 1], ['a', 1], ['z', 1]), {
      compare: 'once',
      drainComplete: false,
    });
    expect(dup.valid).toBe(false);
    expect(dup.anomalyTypes).toEqual(['duplicated', 'unexpected']);
  });
  it('nothing expected and nothing seen is unknown', () => {
    expect(checkModel(new Map(), [], { drainComplete: true }).valid).toBe('unknown');
  });
  it('examples are capped, counts are not', () => {
    const r = checkModel(exp({}), out(['a', 1], ['b', 1], ['c', 1]), { maxExamples: 2, drainComplete: true });
    expect(r.counts.unexpected).toBe(3);
    expect(r.unexpected).toHaveLength(2);
  });
  it('a custom equals', () => {
    const eq = (e: number, o: number) => Math.abs(e - o) < 0.01;
    const expected = new Map([['a', [1]]]);
    expect(checkModel(expected, [{ key: 'a', value: 1.001 }], { equals: eq }).valid).toBe(true);
    expect(checkModel(expected, [{ key: 'a', value: 1.1 }], { equals: eq }).valid).toBe(false);
  });
  it('jsonEquals: member order does not matter, undefined members are absent', () => {
    expect(jsonEquals({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(jsonEquals({ a: 1, x: undefined }, { a: 1 })).toBe(true);
    expect(jsonEquals([1, 2], [2, 1])).toBe(false);
    expect(jsonEquals({ a: 1 }, { a: '1' })).toBe(false);
    expect(jsonEquals(null, {})).toBe(false);
  });
  it('model(): the drain from the data, else from the history; no data is unknown', () => {
    const c = model(() => ({ expected: exp({ a: [1] }), observed: [] as ModelOutput[], drainComplete: false }));
    expect(c.name).toBe('model');
    expect(c.check(new History()).valid).toBe('unknown');
    const h = new History();
    h.record({ kind: 'drain', time: 1, complete: true });
    expect(model(() => ({ expected: exp({ a: [1] }), observed: [] as ModelOutput[] })).check(h).valid).toBe(false);
    expect(model(() => undefined, { name: 'attribution' }).check(h)).toMatchObject({ valid: 'unknown' });
  });
});

/** Running counts per key of a random input: what a step model emits. */
const inputs = fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 60 });
function running(keys: readonly string[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const k of keys) {
    const l = m.get(k) ?? [];
    l.push(l.length + 1);
    m.set(k, l);
  }
  return m;
}

describe('model checker, properties', () => {
  it('last: a correct output (any prefix-closed updates, replays of older counts, interleaved) passes', () => {
    fc.assert(
      fc.property(inputs, fc.infiniteStream(fc.nat(3)), fc.nat(), (keys, noise, seed) => {
        const expected = running(keys);
        const observed: ModelOutput[] = [];
        const it = noise[Symbol.iterator]();
        for (const [k, counts] of expected) {
          for (const n of counts)
            if ((it.next().value as number) === 0 || n === counts.length) observed.push({ key: k, value: n });
          const replay = it.next().value as number;
          if (replay === 1) observed.splice(observed.length - 1, 0, { key: k, value: 1 });
        }
        // interleave keys without changing each key's order
        const shuffled = [...observed].sort(
          (x, y) => ((x.key.charCodeAt(0) * seed) % 7) - ((y.key.charCodeAt(0) * seed) % 7),
        );
        const r = checkModel(expected, shuffled, { drainComplete: true });
        return r.valid === (keys.length === 0 ? 'unknown' : true);
      }),
    );
  });
  it('sequence and once: the exact outputs pass, in any interleaving of keys', () => {
    fc.assert(
      fc.property(inputs, (keys) => {
        const expected = running(keys);
        const seq: ModelOutput[] = [];
        const seen = new Map<string, number>();
        for (const k of keys) {
          const n = (seen.get(k) ?? 0) + 1;
          seen.set(k, n);
          seq.push({ key: k, value: n });
        }
        const last = new Map([...expected].map(([k, l]) => [k, [l[l.length - 1]!]]));
        const once = [...last].reverse().map(([key, l]) => ({ key, value: l[0] }));
        const ok = keys.length === 0 ? 'unknown' : true;
        return (
          checkModel(expected, seq, { compare: 'sequence', drainComplete: true }).valid === ok &&
          checkModel(last, once, { compare: 'once', drainComplete: true }).valid === ok
        );
      }),
    );
  });
  it('an incomplete drain is never false for missing keys or outputs', () => {
    fc.assert(
      fc.property(
        inputs,
        fc.constantFrom<ModelCompare>('last', 'sequence', 'once'),
        fc.array(fc.boolean()),
        (keys, compare, keep) => {
          const expected = running(keys);
          const full = compare === 'once' ? new Map([...expected].map(([k, l]) => [k, [l[l.length - 1]!]])) : expected;
          const all = [...full].flatMap(([key, l]) => l.map((value) => ({ key, value })));
          const observed = all.filter((_, i) => keep[i] ?? false);
          const r = checkModel(full, observed, { compare, drainComplete: false });
          return r.valid !== false && r.anomalyTypes.length === 0;
        },
      ),
    );
  });
});
