import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamproofError } from '../util/errors.ts';
import { parseEventId } from './record.ts';
import { popcount32, SeqBitset } from './seq-bitset.ts';

describe('SeqBitset', () => {
  it('sets, gets, counts and grows', () => {
    const b = new SeqBitset();
    expect(b.set(0)).toBe(true);
    expect(b.set(0)).toBe(false);
    expect(b.set(1000)).toBe(true);
    expect(b.get(0)).toBe(true);
    expect(b.get(1)).toBe(false);
    expect(b.get(1000)).toBe(true);
    expect(b.get(10_000_000)).toBe(false);
    expect(b.count()).toBe(2);
    expect(b.size).toBe(1001);
  });

  it('iterates set and clear bits in order', () => {
    const b = SeqBitset.of([3, 31, 32, 64]);
    expect([...b.setBits()]).toEqual([3, 31, 32, 64]);
    expect([...b.clearBits(8)]).toEqual([0, 1, 2, 4, 5, 6, 7]);
    expect([...b.clearBits(70)].length).toBe(70 - 4);
  });

  it('popcount32 agrees with a bit loop', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (x) => {
        let n = 0;
        for (let i = 0; i < 32; i++) if ((x >>> i) & 1) n++;
        return popcount32(x | 0) === n;
      }),
    );
  });

  it('merge is the union, and equals building from both sets', () => {
    const seqs = fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 200 });
    fc.assert(
      fc.property(seqs, seqs, (a, b) => {
        const merged = SeqBitset.of(a).merge(SeqBitset.of(b));
        const whole = SeqBitset.of([...a, ...b]);
        expect(merged.equals(whole)).toBe(true);
        expect(merged.count()).toBe(new Set([...a, ...b]).size);
        expect(merged.size).toBe(whole.size);
      }),
    );
  });

  it('round-trips through JSON (deflated base64), cleared top bits included', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100_000 }), { maxLength: 300 }), (seqs) => {
        const b = SeqBitset.of(seqs);
        if (seqs.length > 0) b.clear(Math.max(...seqs));
        const back = SeqBitset.fromJSON(JSON.parse(JSON.stringify(b)));
        expect(back.equals(b)).toBe(true);
        expect(back.size).toBe(b.size);
      }),
    );
  });

  it('rejects a corrupt JSON bitset with a stable code', () => {
    expect(() => SeqBitset.fromJSON({ size: 64, base64: 'not deflate' })).toThrowError(StreamproofError);
    try {
      SeqBitset.fromJSON({ size: -1, base64: '' }, 'outcomes.producers[0].acked');
    } catch (e) {
      expect((e as StreamproofError).code).toBe('HISTORY_INVALID_JSON');
      expect((e as StreamproofError).message).toContain('outcomes.producers[0].acked');
    }
    const b = SeqBitset.of([40]).toJSON();
    expect(() => SeqBitset.fromJSON({ ...b, size: 10 })).toThrowError(/size|bytes/);
  });
});

describe('parseEventId', () => {
  it('parses the canonical form only', () => {
    expect(parseEventId('0-0')).toEqual({ producer: 0, seq: 0 });
    expect(parseEventId('12-3456')).toEqual({ producer: 12, seq: 3456 });
    for (const bad of [
      '',
      '-',
      '1-',
      '-1',
      '01-1',
      '1-01',
      '1-1-1',
      'a-1',
      '1-a',
      '1 -1',
      '70000-1',
      '1-99999999999',
    ]) {
      expect(parseEventId(bad), bad).toBeUndefined();
    }
  });
});
