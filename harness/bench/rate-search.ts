/**
 * The search for the highest rate a pipeline sustains: a probe offers one rate for a while and says whether the
 * pipeline kept up. From `start`, the rate doubles while the probe keeps up (up to `max`), then bisects between the
 * highest rate kept up and the lowest one not kept up until they are within `precision` of each other or `points`
 * probes have run. Every probe is kept, in order, so the search can be read afterwards.
 */

export interface RateProbe<P> {
  rate: number;
  keptUp: boolean;
  point: P;
}

export interface RateSearch<P> {
  /** Every probe, in the order it ran. */
  probes: RateProbe<P>[];
  /** The highest rate kept up, or null when even the first (lowest) was not. */
  best: RateProbe<P> | null;
  /** The lowest rate not kept up above `best`, or null when `max` was kept up (the search hit its ceiling). */
  limit: RateProbe<P> | null;
}

export interface RateSearchOptions {
  start: number;
  max: number;
  /** Most probes in all (default 6). */
  points?: number;
  /** Stop bisecting when limit / best <= 1 + precision (default 0.15). */
  precision?: number;
  /** Rates are rounded down to a multiple of this (default 500). */
  step?: number;
}

export async function searchRate<P>(
  probe: (rate: number) => Promise<{ keptUp: boolean; point: P }>,
  o: RateSearchOptions,
): Promise<RateSearch<P>> {
  const points = o.points ?? 6;
  const precision = o.precision ?? 0.15;
  const step = o.step ?? 500;
  const round = (r: number) => Math.max(step, Math.floor(r / step) * step);
  const probes: RateProbe<P>[] = [];
  let best: RateProbe<P> | null = null;
  let limit: RateProbe<P> | null = null;
  const run = async (rate: number) => {
    const r = await probe(rate);
    const p = { rate, keptUp: r.keptUp, point: r.point };
    probes.push(p);
    if (p.keptUp) best = p;
    else limit = p;
    return p;
  };
  let rate = round(Math.min(o.start, o.max));
  while (probes.length < points) {
    const p = await run(rate);
    if (!p.keptUp || rate >= o.max) break;
    rate = round(Math.min(o.max, rate * 2));
  }
  // Bisect between the highest rate kept up and the lowest not kept up (from below: halve until one is kept up).
  while (probes.length < points) {
    const lo = best as RateProbe<P> | null;
    const hi = limit as RateProbe<P> | null;
    if (hi === null) break;
    const next = lo === null ? round(hi.rate / 2) : round((lo.rate + hi.rate) / 2);
    if (lo !== null && hi.rate / lo.rate <= 1 + precision) break;
    if (next === hi.rate || (lo !== null && next === lo.rate)) break;
    const p = await run(next);
    if (!p.keptUp && lo === null && next <= step) break;
  }
  return { probes, best, limit };
}
