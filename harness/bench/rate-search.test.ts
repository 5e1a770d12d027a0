import { describe, expect, it } from 'vitest';
import { searchRate } from './rate-search.ts';

/** A pipeline that keeps up to `capacity` events/s. */
const upTo = (capacity: number) => async (rate: number) => ({ keptUp: rate <= capacity, point: { rate } });

describe('searchRate', () => {
  it('doubles while kept up, then bisects to within the precision', async () => {
    const r = await searchRate(upTo(27_000), { start: 5_000, max: 200_000, points: 8, precision: 0.1 });
    expect(r.probes.map((p) => p.rate)).toEqual([5_000, 10_000, 20_000, 40_000, 30_000, 25_000, 27_500]);
    expect(r.best?.rate).toBe(25_000);
    expect(r.limit?.rate).toBe(27_500);
  });

  it('stops at the ceiling when the ceiling is kept up', async () => {
    const r = await searchRate(upTo(1e9), { start: 10_000, max: 30_000 });
    expect(r.probes.map((p) => p.rate)).toEqual([10_000, 20_000, 30_000]);
    expect(r.best?.rate).toBe(30_000);
    expect(r.limit).toBeNull();
  });

  it('halves from a start that is not kept up', async () => {
    const r = await searchRate(upTo(3_000), { start: 20_000, max: 100_000, points: 5 });
    expect(r.probes.map((p) => p.rate)).toEqual([20_000, 10_000, 5_000, 2_500, 3_500]);
    expect(r.best?.rate).toBe(2_500);
    expect(r.limit?.rate).toBe(3_500);
  });

  it('reports no rate kept up when none is', async () => {
    const r = await searchRate(upTo(0), { start: 2_000, max: 100_000, points: 10 });
    expect(r.best).toBeNull();
    expect(r.probes.at(-1)?.rate).toBe(500);
  });

  it('never runs more probes than asked', async () => {
    const r = await searchRate(upTo(50_000), { start: 1_000, max: 1e6, points: 3 });
    expect(r.probes).toHaveLength(3);
  });
});
