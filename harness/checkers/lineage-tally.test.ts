import { describe, expect, it } from 'vitest';
import { historyOf } from '../history/index.ts';
import { checkLineage } from './lineage.ts';
import { BAD, COMMITTED_PAST, LANDED, LineageTally } from './lineage-tally.ts';

describe('LineageTally', () => {
  it('lands events with their expected count and flags, and counts input duplicates', () => {
    const t = new LineageTally();
    expect(t.land('0-3', 2, COMMITTED_PAST)).toBe(true);
    expect(t.size(0)).toBe(4);
    expect(t.flags(0, 3)).toBe(LANDED | COMMITTED_PAST);
    expect(t.expected(0, 3)).toBe(2);
    expect(t.flags(0, 2)).toBe(0);
    expect(t.land('0-3', 2)).toBe(true);
    expect(t.inputDuplicates).toBe(1);
    expect(t.flags(0, 3)).toBe(LANDED | COMMITTED_PAST);
    expect(t.producers()).toEqual([0]);
  });

  it('refuses ids it cannot keep, and expected values that are not counts', () => {
    const t = new LineageTally({ maxSeq: 10 });
    expect(t.land('0-11', 1)).toBe(false);
    expect(t.land('not-an-id', 1)).toBe(false);
    expect(t.land('0-01', 1)).toBe(false);
    expect(t.producers()).toEqual([]);
    expect(() => t.land('0-1', -1)).toThrowError(RangeError);
    expect(() => t.land('0-1', 1.5)).toThrowError(RangeError);
    expect(() => t.land('0-1', Number.NaN)).toThrowError(RangeError);
    t.markBad(0, 11);
    expect(t.size(0)).toBe(0);
  });

  it('marks bad events landed or not', () => {
    const t = new LineageTally();
    t.reserve(1, 4);
    t.markBad(1, 2);
    t.markBad(1, 6);
    expect(t.flags(1, 2)).toBe(BAD);
    expect(t.flags(1, 6)).toBe(BAD);
    expect(t.size(1)).toBe(7);
    t.land('1-2', 0, BAD);
    expect(t.flags(1, 2)).toBe(BAD | LANDED);
  });

  it('counts outputs per id; ids outside every reserved range apart, in first-seen order', () => {
    const t = new LineageTally();
    t.reserve(0, 2);
    expect(t.see('0-1')).toBe(1);
    expect(t.see('0-1')).toBe(2);
    expect(t.see('0-5')).toBe(1);
    expect(t.see('zz')).toBe(1);
    expect(t.see('3-0')).toBe(1);
    expect(t.see('0-5')).toBe(2);
    expect(t.outputs).toBe(6);
    expect(t.seen(0, 1)).toBe(2);
    expect(t.seen(0, 5)).toBe(2);
    expect(t.seen(3, 0)).toBe(1);
    expect([...t.oddIds()]).toEqual([
      ['0-5', 2],
      ['zz', 1],
      ['3-0', 1],
    ]);
  });

  it('keeps exact counts of 255 and more', () => {
    const t = new LineageTally();
    t.land('0-0', 1000);
    for (let i = 0; i < 700; i++) t.see('0-0');
    expect(t.expected(0, 0)).toBe(1000);
    expect(t.seen(0, 0)).toBe(700);
    t.land('0-0', 3);
    expect(t.expected(0, 0)).toBe(3);
  });

  it('an output seen before its range was reserved moves into the arrays (few odd ids)', () => {
    const t = new LineageTally();
    t.see('0-2');
    t.see('0-2');
    t.see('0-9');
    t.see('1-0');
    t.reserve(0, 3);
    expect(t.seen(0, 2)).toBe(2);
    expect([...t.oddIds().keys()]).toEqual(['0-9', '1-0']);
    t.land('0-9', 1);
    expect(t.seen(0, 9)).toBe(1);
    expect([...t.oddIds().keys()]).toEqual(['1-0']);
    expect(t.see('0-2')).toBe(3);
  });

  it('an output seen before its range was reserved moves into the arrays (a wide range)', () => {
    const t = new LineageTally();
    t.see('0-40');
    t.see('x');
    t.reserve(0, 1_000);
    expect(t.seen(0, 40)).toBe(1);
    expect([...t.oddIds().keys()]).toEqual(['x']);
  });

  it('an event seen before it was reserved is judged as seen', () => {
    const h = historyOf([
      { kind: 'offered', time: 0, eventId: '0-0', userId: 'u', userSeq: 0, sentAt: 0 },
      { kind: 'outcome', time: 1, eventId: '0-0', outcome: 'acked', sentAt: 0 },
    ]);
    const t = new LineageTally();
    t.see('0-0');
    t.land('0-0', 1);
    t.drainComplete = true;
    const r = checkLineage(h, t);
    expect(r.valid).toBe(true);
    expect(r.counts).toMatchObject({ ok: 1, lost: 0, unexpected: 0 });
  });

  it('grows by doubling and reports its bytes', () => {
    const t = new LineageTally();
    t.reserve(0, 10);
    expect(t.byteLength).toBe(30);
    t.land('0-10', 1);
    expect(t.size(0)).toBe(11);
    expect(t.byteLength).toBe(60);
    t.reserve(0, 5);
    expect(t.size(0)).toBe(11);
    t.reserve(0, 0);
    t.reserve(2, -1);
    expect(t.producers()).toEqual([0]);
    const capped = new LineageTally({ maxSeq: 15 });
    capped.reserve(0, 100);
    expect(capped.size(0)).toBe(16);
    // An output naming a seq past the cap is an odd id, never an allocation.
    capped.see('0-99');
    expect(capped.byteLength).toBe(48);
    expect(capped.seen(0, 99)).toBe(1);
  });
});
