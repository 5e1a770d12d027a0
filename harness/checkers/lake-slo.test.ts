import { describe, expect, it } from 'vitest';
import { History } from '../history/index.ts';
import { StreamproofError } from '../util/errors.ts';
import { lakeSlo } from './lake-slo.ts';
import { slo } from './slo.ts';

const T = 1_700_000_000_000;

/** 100 sightings with latencies 1..100 ms (main) or 1001..1100 ms (lake). */
function history(offsetMs: number): History {
  const h = new History();
  for (let i = 0; i < 100; i++) {
    const sentAt = T + i * 10;
    const id = `0-${i}`;
    h.record({ kind: 'offered', time: sentAt, eventId: id, userId: 'u', userSeq: i, sentAt });
    h.record({ kind: 'outcome', time: sentAt + 1, eventId: id, outcome: 'acked', sentAt });
    h.record({
      kind: 'observed',
      time: sentAt + offsetMs + 1 + i,
      eventId: id,
      key: 'u',
      partition: 0,
      offset: i,
      userSeq: i,
      sentAt,
    });
  }
  return h;
}

const spec = { e2e_latency: ['p(95)<200ms'], lake_latency: ['p(95)<1500ms', 'max<1050ms'] };

describe('lake-slo', () => {
  it('judges lake_latency over the lake history and nothing else', () => {
    const r = lakeSlo(spec).check(history(1000));
    expect(r.checker).toBe('lake-slo');
    expect(r.thresholds.map((t) => t.expression)).toEqual(['p(95)<1500ms', 'max<1050ms']);
    expect(r.thresholds[0]).toMatchObject({ metric: 'lake_latency', ok: true, unit: 'ms' });
    expect(r.thresholds[0]!.observed).toBeCloseTo(1096, -1);
    expect(r.breaches.map((t) => t.expression)).toEqual(['max<1050ms']);
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['slo-breach']);
  });

  it('passes when the lake is fast enough, is unknown with no row seen, true with no lake threshold', () => {
    expect(lakeSlo({ lake_latency: 'p(95)<1500ms' }).check(history(1000)).valid).toBe(true);
    const empty = lakeSlo({ lake_latency: 'p(95)<1500ms' }).check(new History());
    expect(empty.valid).toBe('unknown');
    expect(empty.thresholds[0]!.observed).toBeNull();
    expect(lakeSlo({ e2e_latency: 'p(95)<1ms' }).check(history(1000))).toMatchObject({ valid: true, thresholds: [] });
  });

  it('the main slo checker ignores lake_latency', () => {
    const r = slo(spec).check(history(0));
    expect(r.thresholds.map((t) => t.metric)).toEqual(['e2e_latency']);
    expect(r.valid).toBe(true);
  });

  it('parses lake_latency like e2e_latency, eagerly', () => {
    expect(lakeSlo({ lake_latency: 'p(99)<=2s' }).check(history(1000)).thresholds[0]).toMatchObject({ limit: 2000 });
    expect(() => lakeSlo({ lake_latency: 'rate<0.1' })).toThrow(StreamproofError);
    expect(() => lakeSlo({ lake_latency: 'p(95)<5/s' }, { path: 'scenario.slo' })).toThrow(
      /scenario\.slo\.lake_latency\[0\]: bad threshold/,
    );
  });
});
