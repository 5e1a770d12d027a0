import { describe, expect, it } from 'vitest';
import { History, type HistoryRecord } from '../history/index.ts';
import { checkLatency } from './latency.ts';
import { recoveryTimes } from './recovery.ts';

const T = 1_700_000_000_000;

/** Output of `rate` records per second over [fromS, toS) seconds after T, each with latency `latencyMs`. */
function steady(h: History, fromS: number, toS: number, rate: number, latencyMs: number, next: { id: number }): void {
  for (let s = fromS; s < toS; s++) {
    for (let i = 0; i < rate; i++) {
      const time = T + s * 1000 + (i * 1000) / rate;
      const id = next.id++;
      h.record({
        kind: 'observed',
        time,
        eventId: `0-${id}`,
        key: `u${id % 10}`,
        partition: 0,
        offset: id,
        userSeq: id,
        sentAt: time - latencyMs,
      });
    }
  }
}

function fault(h: History, id: string, startS: number, healS: number | undefined): void {
  h.record({ kind: 'fault', time: T + startS * 1000, phase: 'start', faultId: id, fault: 'partition' });
  if (healS !== undefined)
    h.record({ kind: 'fault', time: T + healS * 1000, phase: 'heal', faultId: id, fault: 'partition' });
}

describe('latency', () => {
  it('summarises end-to-end and ack latency in ms from the µs histograms', () => {
    const h = new History();
    const records: HistoryRecord[] = [];
    for (let i = 0; i < 1000; i++) {
      const sentAt = T + i;
      records.push({ kind: 'offered', time: sentAt, eventId: `0-${i}`, userId: 'u', userSeq: i, sentAt });
      records.push({ kind: 'outcome', time: sentAt + 2, eventId: `0-${i}`, outcome: 'acked', sentAt });
      records.push({
        kind: 'observed',
        time: sentAt + 1 + i / 10,
        eventId: `0-${i}`,
        key: 'u',
        partition: 0,
        offset: i,
        userSeq: i,
        sentAt,
      });
    }
    for (const r of records) h.record(r);
    const r = checkLatency(h);
    expect(r.valid).toBe(true);
    expect(r.unit).toBe('ms');
    expect(r.e2e.count).toBe(1000);
    // latencies 1.0 .. 100.9 ms, uniformly: p50 ~ 51, p99 ~ 100, HDR within 0.1%.
    expect(r.e2e.p50Ms).toBeCloseTo(50.9, 0);
    expect(r.e2e.p99Ms).toBeCloseTo(99.9, 0);
    expect(r.e2e.maxMs).toBeCloseTo(100.9, 0);
    expect(r.ack).toMatchObject({ count: 1000 });
    expect(r.ack.p999Ms).toBeCloseTo(2, 2);
    expect(r.series.reduce((n, p) => n + p.offered, 0)).toBe(1000);
    expect(r.series.reduce((n, p) => n + p.observed, 0)).toBe(1000);
  });

  it('an empty history has null summaries, not zeros', () => {
    const r = checkLatency(new History());
    expect(r.e2e).toMatchObject({ count: 0, p50Ms: null, maxMs: null });
    expect(r.throughput.observedPerSec).toBeNull();
  });

  it('recovery time: from heal to the first of 3 in-band seconds', () => {
    const h = new History();
    const next = { id: 0 };
    steady(h, 0, 20, 100, 10, next);
    fault(h, 'f1', 20, 25);
    steady(h, 25, 27, 300, 2000, next); // catch-up burst: above the rate band, latency high
    steady(h, 27, 40, 100, 11, next);
    const [rec] = recoveryTimes(h);
    expect(rec).toMatchObject({
      faultId: 'f1',
      status: 'recovered',
      recoveryMs: 2000,
      recoveredAt: T + 27_000,
      baseline: { seconds: 10, ratePerSec: 100 },
    });
    expect(rec!.baseline!.e2eP95Ms).toBeCloseTo(10, 0);
  });

  it('recovery statuses: not-recovered, interrupted, not-healed, no-baseline', () => {
    const h = new History();
    const next = { id: 0 };
    steady(h, 0, 10, 100, 10, next);
    fault(h, 'early', 0, 1);
    fault(h, 'a', 10, 12);
    steady(h, 12, 14, 100, 500, next);
    fault(h, 'b', 14, 16);
    steady(h, 16, 18, 100, 500, next);
    fault(h, 'c', 18, undefined);
    const byId = Object.fromEntries(recoveryTimes(h).map((r) => [r.faultId, r.status]));
    expect(byId).toEqual({ early: 'no-baseline', a: 'interrupted', b: 'not-recovered', c: 'not-healed' });
  });

  it('throughput is the mean over the steady window (first and last second dropped)', () => {
    const h = new History();
    const next = { id: 0 };
    steady(h, 0, 1, 10, 5, next);
    steady(h, 1, 4, 50, 5, next);
    steady(h, 4, 5, 7, 5, next);
    expect(checkLatency(h).throughput).toMatchObject({ seconds: 3, observedPerSec: 50 });
  });
});
