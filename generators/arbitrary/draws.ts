/**
 * The draw vector of one event (see model.ts): DRAWS_PER_EVENT uniform 31-bit integers. Internal to the arbitraries.
 *
 * `noBias` matters: fast-check biases integers towards small and extreme values to find edge cases, which would skew
 * every category and break the promise that arbitraries and the bulk generator share one distribution. Edge cases
 * have their own arbitrary (`badEvent`). Shrinking is unaffected: each draw still shrinks towards 0, the plain case.
 */
import fc from 'fast-check';
import { DRAW_RANGE, DRAWS_PER_EVENT } from '../model.ts';

const draw = fc.noBias(fc.integer({ min: 0, max: DRAW_RANGE - 1 }));

export const drawVector: fc.Arbitrary<number[]> = fc.tuple(
  ...Array.from({ length: DRAWS_PER_EVENT }, () => draw),
) as unknown as fc.Arbitrary<number[]>;
