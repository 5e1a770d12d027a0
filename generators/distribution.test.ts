/**
 * The arbitraries and the bulk generator must draw from one distribution. Real two-sample tests at fixed seeds:
 * chi-square homogeneity on categorical fields, Kolmogorov-Smirnov on revenue, at alpha = 0.001. A power check makes
 * sure the same tests do reject a bulk stream with different weights (a test that cannot fail proves nothing).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { traffic } from './arbitrary/traffic.ts';
import { type BulkGeneratorOptions, createBulkGenerator } from './bulk.ts';
import { CHANNELS, DEVICES, EVENT_TYPES, type Event, type EventV3 } from './event.ts';

const MODEL = { users: 1000, schemaVersion: 3 as const };

function fromTraffic(): Event[] {
  return fc.sample(traffic({ ...MODEL, minEvents: 150, maxEvents: 200 }), { seed: 20240601, numRuns: 300 }).flat();
}

function fromBulk(n: number, extra: BulkGeneratorOptions = {}): Event[] {
  const g = createBulkGenerator({ seed: 77, format: 'avro', ...MODEL, ...extra });
  const b = g.nextBatch(n);
  return Array.from({ length: n }, (_, i) => b.event(i));
}

/** Chi-square statistic of a 2 x k contingency table (homogeneity of two samples). */
function chiSquare(a: number[], b: number[]): number {
  const na = a.reduce((s, x) => s + x, 0);
  const nb = b.reduce((s, x) => s + x, 0);
  let stat = 0;
  for (let i = 0; i < a.length; i++) {
    const col = a[i]! + b[i]!;
    if (col === 0) continue;
    const ea = (na * col) / (na + nb);
    const eb = (nb * col) / (na + nb);
    stat += (a[i]! - ea) ** 2 / ea + (b[i]! - eb) ** 2 / eb;
  }
  return stat;
}

/** Chi-square critical values at alpha = 0.001 by degrees of freedom. */
const CHI2_CRIT: Record<number, number> = { 1: 10.828, 2: 13.816, 3: 16.266, 5: 20.515 };

function counts(events: Event[], key: (e: Event) => string, categories: readonly string[]): number[] {
  const c = categories.map(() => 0);
  for (const e of events) c[categories.indexOf(key(e))]!++;
  return c;
}

/** Two-sample KS statistic D = sup |F1 - F2|. */
function ks(x: number[], y: number[]): number {
  const a = [...x].sort((p, q) => p - q);
  const b = [...y].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < a.length && j < b.length) {
    const v = Math.min(a[i]!, b[j]!);
    while (i < a.length && a[i]! <= v) i++;
    while (j < b.length && b[j]! <= v) j++;
    d = Math.max(d, Math.abs(i / a.length - j / b.length));
  }
  return d;
}

function ksCritical(n: number, m: number): number {
  return 1.949 * Math.sqrt((n + m) / (n * m)); // alpha = 0.001
}

const revenues = (es: Event[]) => es.filter((e) => e.revenue !== null).map((e) => e.revenue!);
const isLate = (e: Event) => (e.sent_at - e.event_time > 2000 ? 'late' : 'on-time');
const isHeavy = (e: Event) => (Number(e.user_id.slice(1)) < 10 ? 'heavy' : 'other');

describe('arbitraries and bulk agree on their distributions', () => {
  const arb = fromTraffic();
  const bulk = fromBulk(60_000);

  it('has enough data', () => {
    expect(arb.length).toBeGreaterThan(40_000);
    expect(revenues(arb).length).toBeGreaterThan(1000);
  });

  const categorical: [string, (e: Event) => string, readonly string[]][] = [
    ['type', (e) => e.type, EVENT_TYPES],
    ['channel', (e) => e.channel, CHANNELS],
    ['device', (e) => (e as EventV3).device, DEVICES],
    ['late', isLate, ['late', 'on-time']],
    ['heavy user', isHeavy, ['heavy', 'other']],
    ['consent.ads', (e) => String((e as EventV3).consent.ads), ['true', 'false']],
  ];
  for (const [name, key, cats] of categorical) {
    it(`chi-square: ${name}`, () => {
      const stat = chiSquare(counts(arb, key, cats), counts(bulk, key, cats));
      expect(stat).toBeLessThan(CHI2_CRIT[cats.length - 1]!);
    });
  }

  it('KS: revenue', () => {
    const x = revenues(arb);
    const y = revenues(bulk);
    expect(ks(x, y)).toBeLessThan(ksCritical(x.length, y.length));
  });

  it('KS: on-time delay (event_time before sent_at)', () => {
    const delay = (es: Event[]) => es.filter((e) => isLate(e) === 'on-time').map((e) => e.sent_at - e.event_time);
    const x = delay(arb).slice(0, 20_000);
    const y = delay(bulk).slice(0, 20_000);
    expect(ks(x, y)).toBeLessThan(ksCritical(x.length, y.length));
  });

  it('power: the same tests reject a stream with other weights', () => {
    const skewed = fromBulk(60_000, { typeWeights: { conversion: 4 }, revenueMedian: 45 });
    expect(
      chiSquare(
        counts(arb, (e) => e.type, EVENT_TYPES),
        counts(skewed, (e) => e.type, EVENT_TYPES),
      ),
    ).toBeGreaterThan(CHI2_CRIT[2]!);
    const x = revenues(arb);
    const y = revenues(skewed);
    expect(ks(x, y)).toBeGreaterThan(ksCritical(x.length, y.length));
  });
});
