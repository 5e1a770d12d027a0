import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocateLargestRemainder, fromMinorUnits, toMinorUnits } from './money.ts';

describe('toMinorUnits', () => {
  it('reads the amount as written, rounding half away from zero at the minor unit', () => {
    expect(toMinorUnits(19.99, 2)).toBe(1999);
    expect(toMinorUnits(0.285, 2)).toBe(29); // the double is 0.28499999999999998; the decimal is 0.285
    expect(toMinorUnits(0.284, 2)).toBe(28);
    expect(toMinorUnits(1000, 0)).toBe(1000);
    expect(toMinorUnits(1.2345, 3)).toBe(1235);
    expect(toMinorUnits(1e-7, 2)).toBe(0);
    expect(toMinorUnits(0, 2)).toBe(0);
    expect(toMinorUnits(-1.005, 2)).toBe(-101);
  });

  it('refuses amounts that do not fit a safe integer of minor units', () => {
    expect(toMinorUnits(1e17, 2)).toBeNull();
    expect(toMinorUnits(Number.NaN, 2)).toBeNull();
    expect(toMinorUnits(Number.POSITIVE_INFINITY, 2)).toBeNull();
  });

  it('round-trips whole minor units', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 4 }), (minor, exponent) => {
        expect(toMinorUnits(fromMinorUnits(minor, exponent), exponent)).toBe(minor);
      }),
    );
  });
});

describe('allocateLargestRemainder', () => {
  it('gives leftover units to the largest remainders, ties to the lower index', () => {
    expect(allocateLargestRemainder(1000, [1, 1, 1])).toEqual([334, 333, 333]);
    expect(allocateLargestRemainder(10000, [1, 2, 4])).toEqual([1429, 2857, 5714]);
    expect(allocateLargestRemainder(10000, [6, 1, 1, 1, 6])).toEqual([4000, 667, 667, 666, 4000]);
    expect(allocateLargestRemainder(1, [1, 1])).toEqual([1, 0]);
    expect(allocateLargestRemainder(0, [1, 2])).toEqual([0, 0]);
    expect(allocateLargestRemainder(5, [0, 1])).toEqual([0, 5]);
    expect(allocateLargestRemainder(-1000, [1, 1, 1])).toEqual([-334, -333, -333]);
  });

  it('is exact on weights of very different magnitude', () => {
    expect(allocateLargestRemainder(100, [1, 2 ** -1000])).toEqual([100, 0]);
    expect(allocateLargestRemainder(2 ** 53 - 1, [1, 1])).toEqual([2 ** 52, 2 ** 52 - 1]);
  });

  it('rejects weights it cannot split by', () => {
    expect(() => allocateLargestRemainder(10, [])).toThrow(RangeError);
    expect(() => allocateLargestRemainder(10, [0, 0])).toThrow(RangeError);
    expect(() => allocateLargestRemainder(10, [1, -1])).toThrow(RangeError);
    expect(() => allocateLargestRemainder(1.5, [1])).toThrow(RangeError);
  });

  it('sums exactly to the total, each part within one unit of its quota', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 ** 12 }),
        fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 20 }),
        (total, weights) => {
          fc.pre(weights.some((w) => w > 0));
          const parts = allocateLargestRemainder(total, weights);
          expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
          const sum = weights.reduce((a, b) => a + b, 0);
          parts.forEach((part, i) => {
            const quota = (total * (weights[i] ?? 0)) / sum;
            expect(Math.abs(part - quota)).toBeLessThan(1 + 1e-6 * Math.max(1, quota));
          });
        },
      ),
    );
  });
});
