/**
 * Slices (load workers): W drivers, each with `slice { index, count: W }` and the lanes `sliceLanes` gives it, offer
 * together exactly what one driver with the same producers offers: the same event ids, users, user_seqs, intended
 * send times, partitions and record bytes. Fake clock and fake senders: the model, not Kafka.
 */
import { describe, expect, it } from 'vitest';
import type { History, HistoryRecord, OfferedRecord } from '../history/index.ts';
import { FakeClock } from './clock.ts';
import { type LaneSender, LoadDriver, type OutMessage } from './driver.ts';
import { sliceLanes } from './load.ts';
import { type LoadOptions, resolveLoadOptions } from './options.ts';

class AckingSender implements LaneSender {
  sent: OutMessage[] = [];
  constructor(private readonly clock: FakeClock) {}
  send(messages: OutMessage[], done: (error?: unknown) => void): void {
    this.sent.push(...messages);
    this.clock.setTimer(() => done(), 2);
  }
  outcomes() {
    return () => 'unknown' as const;
  }
  describe(): string {
    return 'never';
  }
  reset(): void {}
  async close(): Promise<void> {}
}

const PARTITIONS = 6;

async function drive(producers: number, slice?: { index: number; count: number }) {
  const clock = new FakeClock();
  const records: HistoryRecord[] = [];
  const history = { record: (r: HistoryRecord) => records.push(r) } as unknown as History;
  const opts: LoadOptions = {
    bootstrap: '127.0.0.1:9092',
    topic: 't',
    history,
    generator: { seed: 5, users: 300 },
    rate: 2000,
    duration: '2s',
    producers,
    startAt: 1_800_000_000_000,
    ...(slice === undefined ? {} : { slice }),
  };
  const cfg = resolveLoadOptions(opts);
  const totalLanes = Math.min(producers, PARTITIONS);
  const laneIds = sliceLanes(totalLanes, PARTITIONS, cfg.slice);
  const senders = laneIds.map(() => new AckingSender(clock));
  const driver = new LoadDriver(cfg, {
    history,
    clock,
    partitions: PARTITIONS,
    senders,
    laneIds,
    totalLanes,
    startTime: cfg.startAt,
  });
  driver.start();
  clock.advance(1_800_000_000_000 + 10_000 - clock.now());
  const summary = await driver.done;
  const offered = records
    .filter((r): r is OfferedRecord => r.kind === 'offered')
    .map((r) => `${r.eventId} ${r.userId} ${r.userSeq} ${r.sentAt}`);
  const bytes = senders.flatMap((s) =>
    s.sent.map((m) => `${m.partition} ${m.key.toString('hex')} ${m.value.toString('hex')}`),
  );
  return { offered, bytes, summary, laneIds };
}

describe('load slices', () => {
  it('sliceLanes: the lanes a slice touches, all lanes without one', () => {
    expect(sliceLanes(1, 6, undefined)).toEqual([0]);
    expect(sliceLanes(3, 6, undefined)).toEqual([0, 1, 2]);
    expect(sliceLanes(2, 6, { index: 1, count: 2 })).toEqual([1]);
    expect(sliceLanes(3, 6, { index: 0, count: 2 })).toEqual([0, 1, 2]);
    expect(sliceLanes(1, 6, { index: 1, count: 2 })).toEqual([0]);
    expect(sliceLanes(2, 3, { index: 2, count: 4 })).toEqual([0]);
    expect(sliceLanes(2, 3, { index: 3, count: 4 })).toEqual([]);
  });

  for (const [producers, workers] of [
    [1, 2],
    [2, 2],
    [3, 2],
    [2, 3],
  ] as const) {
    it(`${workers} slices of a ${producers}-producer run are that run, event for event`, async () => {
      const whole = await drive(producers);
      expect(whole.offered.length).toBe(4000);
      const parts = await Promise.all(
        Array.from({ length: workers }, (_, index) => drive(producers, { index, count: workers })),
      );
      for (const p of parts) {
        expect(p.offered.length).toBeGreaterThan(0);
        expect(p.summary.acked).toBe(p.offered.length);
      }
      const union = parts.flatMap((p) => p.offered);
      expect(new Set(union).size).toBe(union.length); // no event offered by two workers
      expect(union.sort()).toEqual([...whole.offered].sort());
      expect(parts.flatMap((p) => p.bytes).sort()).toEqual([...whole.bytes].sort());
    });
  }

  it('rejects a bad slice, naming the field', () => {
    const base = { bootstrap: '127.0.0.1:1', topic: 't', history: { record() {} } as unknown as History };
    expect(() => resolveLoadOptions({ ...base, rate: 1, duration: 1000, slice: { index: 2, count: 2 } })).toThrow(
      /load\.slice\.index/,
    );
    expect(() => resolveLoadOptions({ ...base, rate: 1, duration: 1000, slice: { index: 0, count: 0 } })).toThrow(
      /load\.slice\.count/,
    );
    expect(() => resolveLoadOptions({ ...base, rate: 1, duration: 1000, startAt: 1.5 })).toThrow(/load\.startAt/);
  });
});
