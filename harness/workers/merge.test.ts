import { describe, expect, it } from 'vitest';
import { History, type HistoryRecord } from '../history/index.ts';
import type { LoadSummary } from '../load/index.ts';
import { mergeWorkerResults, WORKER_RESULT_FORMAT, type WorkerResult } from './merge.ts';

function summary(over: Partial<LoadSummary>): LoadSummary {
  return {
    topic: 't',
    partitions: 6,
    producers: 1,
    producerIds: [0],
    offered: 0,
    acked: 0,
    failed: 0,
    unknown: 0,
    targetRate: 100,
    offeredRate: 50,
    scheduled: 10,
    scheduleLag: { maxMs: 1, p99Ms: 1, lateOffers: 0, lateOfferMs: 100 },
    ackLatency: null,
    ackFromOfferLatency: null,
    inFlightMax: 1,
    budgetBlockedTicks: 0,
    requests: 1,
    meanBatch: 1,
    producerResets: 0,
    startedAt: 1000,
    endedAt: 2000,
    durationMs: 1000,
    ending: 'completed',
    drainComplete: true,
    ...over,
  };
}

/** Offered + acked records for (producer, seq, ack latency ms). */
function records(events: [number, number, number][]): HistoryRecord[] {
  return events.flatMap(([p, s, lat]) => [
    { kind: 'offered', time: 1000 + s, eventId: `${p}-${s}`, userId: 'u', userSeq: s, sentAt: 1000 + s },
    { kind: 'outcome', time: 1000 + s + lat, eventId: `${p}-${s}`, outcome: 'acked', sentAt: 1000 + s },
  ]);
}

function result(index: number, events: [number, number, number][], over: Partial<LoadSummary>): WorkerResult {
  const h = new History();
  for (const r of records(events)) h.record(r);
  return {
    format: WORKER_RESULT_FORMAT,
    index,
    workerId: `w${index}`,
    host: 'h',
    pid: 100 + index,
    lanes: [0],
    summary: summary(over),
    history: JSON.parse(JSON.stringify(h)),
  };
}

describe('mergeWorkerResults', () => {
  it('merges histories exactly (same bitsets, histogram and series as one history of all records)', () => {
    const a: [number, number, number][] = [
      [0, 0, 3],
      [0, 2, 5],
      [0, 4, 40],
    ];
    const b: [number, number, number][] = [
      [0, 1, 4],
      [0, 3, 7],
    ];
    const into = new History();
    const s = mergeWorkerResults(
      [
        result(1, b, {
          offered: 2,
          acked: 2,
          offeredRate: 20,
          scheduleLag: { maxMs: 9, p99Ms: 8, lateOffers: 1, lateOfferMs: 100 },
        }),
        result(0, a, { offered: 3, acked: 3, offeredRate: 30, ending: 'stopped', startedAt: 900 }),
      ],
      into,
    );
    const one = new History();
    for (const r of records([...a, ...b])) one.record(r);
    expect(into.outcomes.toJSON()).toEqual(one.outcomes.toJSON());
    // The same distribution (the encodings may differ in bucket layout after a merge).
    const dist = (h: History) =>
      [0, 25, 50, 75, 90, 100].map((p) => h.latency.ack.getValueAtPercentile(p)).concat(h.latency.ack.totalCount);
    expect(dist(into)).toEqual(dist(one));
    expect(into.latency.series()).toEqual(one.latency.series());
    expect(s.offered).toBe(5);
    expect(s.acked).toBe(5);
    expect(s.offeredRate).toBe(50);
    expect(s.ackLatency?.count).toBe(5);
    expect(s.ackLatency?.maxMs).toBeCloseTo(40, 0);
    expect(s.scheduleLag).toMatchObject({ maxMs: 9, p99Ms: 8, lateOffers: 1 });
    expect(s.ending).toBe('stopped');
    expect(s.startedAt).toBe(900);
    expect(s.scheduled).toBe(10);
    expect(s.workers.map((w) => w.index)).toEqual([0, 1]);
  });

  it('refuses a worker without a summary', () => {
    const r = { ...result(0, [], {}), summary: null, error: 'topic missing' };
    expect(() => mergeWorkerResults([r], new History())).toThrow(/worker 0 has no summary: topic missing/);
  });
});
