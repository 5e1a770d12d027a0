import { describe, expect, it } from 'vitest';
import type { History, HistoryRecord, OfferedRecord, OutcomeRecord } from '../history/index.ts';
import { FakeClock } from './clock.ts';
import { type LaneSender, LoadDriver, type OutMessage } from './driver.ts';
import { partitionForKey } from './murmur2.ts';
import { type LoadOptions, plannedEvents, resolveLoadOptions } from './options.ts';

type Behaviour = (
  msgs: OutMessage[],
  n: number,
) => { after: number; error?: { outcome: 'failed' | 'unknown' } } | 'hang';

class FakeSender implements LaneSender {
  sends: OutMessage[][] = [];
  resets = 0;
  closed = false;
  constructor(
    private readonly clock: FakeClock,
    private readonly behave: Behaviour,
  ) {}
  send(messages: OutMessage[], done: (error?: unknown) => void): void {
    const n = this.sends.push(messages) - 1;
    const b = this.behave(messages, n);
    if (b === 'hang') return;
    this.clock.setTimer(() => done(b.error), b.after);
  }
  outcomes(error: unknown) {
    return () => (error as { outcome: 'failed' | 'unknown' }).outcome;
  }
  describe(error: unknown): string {
    return `fake ${(error as { outcome: string }).outcome}`;
  }
  reset(): void {
    this.resets++;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

function setup(
  opts: Partial<LoadOptions>,
  behave: Behaviour,
  { partitions = 4, lanes = 1 }: { partitions?: number; lanes?: number } = {},
) {
  const clock = new FakeClock();
  const records: HistoryRecord[] = [];
  const history = { record: (r: HistoryRecord) => records.push(r) } as unknown as History;
  const cfg = resolveLoadOptions({
    bootstrap: '127.0.0.1:9092',
    topic: 't',
    history,
    generator: { seed: 42, users: 500 },
    ...opts,
  } as LoadOptions);
  const senders = Array.from({ length: lanes }, () => new FakeSender(clock, behave));
  const progress: Record<string, unknown>[] = [];
  const driver = new LoadDriver(cfg, { history, clock, partitions, senders, progress: (e) => progress.push(e) });
  return { clock, records, driver, senders, progress };
}

const offers = (rs: HistoryRecord[]) => rs.filter((r): r is OfferedRecord => r.kind === 'offered');
const outcomes = (rs: HistoryRecord[]) => rs.filter((r): r is OutcomeRecord => r.kind === 'outcome');

function exactlyOneOutcomeEach(rs: HistoryRecord[]): void {
  const offered = offers(rs).map((r) => r.eventId);
  const resolved = outcomes(rs).map((r) => r.eventId);
  expect(new Set(offered).size).toBe(offered.length);
  expect(resolved.length).toBe(offered.length);
  expect(new Set(resolved)).toEqual(new Set(offered));
}

async function finish(s: ReturnType<typeof setup>, ms: number) {
  s.driver.start();
  s.clock.advance(ms);
  return s.driver.done;
}

describe('LoadDriver pacing (fake clock)', () => {
  it('offers every event at its intended time: rate x duration events, each within a tick of sentAt', async () => {
    const s = setup({ rate: 1000, duration: '2s' }, () => ({ after: 5 }));
    const sum = await finish(s, 2100);
    const o = offers(s.records);
    expect(o.length).toBe(2000);
    expect(sum).toMatchObject({
      offered: 2000,
      acked: 2000,
      failed: 0,
      unknown: 0,
      scheduled: 2000,
      ending: 'completed',
    });
    expect(sum.offeredRate).toBeCloseTo(1000, 0);
    expect(sum.targetRate).toBe(1000);
    for (const r of o) expect(r.time - r.sentAt).toBeLessThanOrEqual(1);
    // progress once a second while running, then the summary
    const running = s.progress.filter((e) => !String(e.message).startsWith('done'));
    expect(running.length).toBe(2);
    expect(running[0]).toMatchObject({ phase: 'load', offered: 1000, inFlight: expect.any(Number), rate: 1000 });
    expect(s.progress.at(-1)).toMatchObject({ fraction: 1, offered: 2000, message: expect.stringMatching(/^done/) });
    expect(o[0]!.sentAt).toBe(s.driver.startTime);
    expect(o[1999]!.sentAt).toBe(s.driver.startTime + 1999);
    expect(sum.scheduleLag.maxMs).toBeLessThanOrEqual(1);
    expect(sum.ackLatency!.p50Ms).toBeGreaterThanOrEqual(5);
    expect(sum.ackLatency!.p99Ms).toBeLessThan(12);
    exactlyOneOutcomeEach(s.records);
  });

  it('a slow broker does not slow the offered rate; latency is measured from the intended time', async () => {
    const s = setup({ rate: 1000, duration: '2s' }, () => ({ after: 300 }));
    const sum = await finish(s, 3000);
    expect(sum.offered).toBe(2000);
    expect(sum.offeredRate).toBeCloseTo(1000, 0);
    expect(sum.scheduleLag.maxMs).toBeLessThanOrEqual(1);
    // One request in flight per producer: an event waits for the current request (0..300 ms) then its own (300 ms).
    expect(sum.ackLatency!.p50Ms).toBeGreaterThanOrEqual(300);
    expect(sum.ackLatency!.maxMs).toBeLessThanOrEqual(602);
    // Batches grow with the latency: ~300 events per request, not one request per event.
    expect(sum.meanBatch).toBeGreaterThan(100);
    for (const r of outcomes(s.records)) expect(r.time - r.sentAt).toBeGreaterThanOrEqual(300);
  });

  it('when the in-flight budget is full, offering pauses and the schedule lag is recorded, then it catches up', async () => {
    const s = setup({ rate: 1000, duration: '2s', maxInFlightRecords: 100 }, () => ({ after: 300 }));
    const sum = await finish(s, 20_000);
    expect(sum.offered).toBe(2000);
    expect(sum.acked).toBe(2000);
    expect(sum.inFlightMax).toBeLessThanOrEqual(100);
    expect(sum.budgetBlockedTicks).toBeGreaterThan(0);
    expect(sum.scheduleLag.maxMs).toBeGreaterThan(1000);
    expect(sum.scheduleLag.lateOffers).toBeGreaterThan(1000);
    expect(sum.offeredRate).toBeLessThan(500);
    // Late offers keep their intended sentAt: the lag is part of the latency.
    const late = offers(s.records).filter((r) => r.time - r.sentAt > 100);
    expect(late.length).toBe(sum.scheduleLag.lateOffers);
    expect(sum.ackLatency!.maxMs).toBeGreaterThan(sum.scheduleLag.maxMs);
  });

  it('follows stages: a ramp then a steady stage', async () => {
    const stages = [
      { duration: '1s', rate: 0, endRate: 2000 },
      { duration: 1000, rate: 1000 },
    ];
    const s = setup({ stages }, () => ({ after: 2 }));
    const sum = await finish(s, 2500);
    const planned = plannedEvents(
      resolveLoadOptions({ bootstrap: 'h:1', topic: 't', history: { record() {} } as never, stages }).stages!,
      2000,
    );
    expect(planned).toBeCloseTo(2000, 6);
    expect(Math.abs(sum.offered - 2000)).toBeLessThanOrEqual(1);
    const o = offers(s.records);
    // Ramp: the first half-second holds a quarter of the ramp's events (rate grows linearly).
    const firstHalf = o.filter((r) => r.sentAt < s.driver.startTime + 500).length;
    expect(Math.abs(firstHalf - 250)).toBeLessThanOrEqual(2);
    for (const r of o) expect(r.time - r.sentAt).toBeLessThanOrEqual(1);
  });

  it('stop() ends offering early and still resolves every offer', async () => {
    const s = setup({ rate: 1000, duration: '10s' }, () => ({ after: 50 }));
    s.driver.start();
    s.clock.advance(1000);
    const p = s.driver.stop();
    s.clock.advance(1000);
    const sum = await p;
    expect(sum.ending).toBe('stopped');
    expect(Math.abs(sum.offered - 1000)).toBeLessThanOrEqual(2);
    expect(sum.acked).toBe(sum.offered);
    expect(sum.scheduled).toBe(sum.offered);
    exactlyOneOutcomeEach(s.records);
    expect(s.clock.pending).toBe(0);
  });
});

describe('LoadDriver outcomes (fake clock)', () => {
  it('records the sender verdict per event and resets the producer session after an error', async () => {
    // Requests 3 and 4 fail: one definitely, one ambiguously.
    const s = setup({ rate: 1000, duration: '1s' }, (_m, n) =>
      n === 3
        ? { after: 5, error: { outcome: 'failed' } }
        : n === 4
          ? { after: 5, error: { outcome: 'unknown' } }
          : { after: 5 },
    );
    const sum = await finish(s, 1500);
    const sends = s.senders[0]!.sends;
    expect(sum.failed).toBe(sends[3]!.length);
    expect(sum.unknown).toBe(sends[4]!.length);
    expect(sum.acked + sum.failed + sum.unknown).toBe(sum.offered);
    expect(sum.producerResets).toBe(2);
    expect(s.senders[0]!.resets).toBe(2);
    const bad = outcomes(s.records).filter((r) => r.outcome !== 'acked');
    expect(bad.every((r) => r.error === `fake ${r.outcome}`)).toBe(true);
    exactlyOneOutcomeEach(s.records);
  });

  it('a send unanswered within acksTimeoutMs is unknown; later sends go on', async () => {
    const s = setup({ rate: 1000, duration: '2s', acksTimeoutMs: 500 }, (_m, n) => (n === 2 ? 'hang' : { after: 5 }));
    const sum = await finish(s, 3000);
    const hung = s.senders[0]!.sends[2]!.length;
    expect(sum.unknown).toBe(hung);
    expect(sum.acked).toBe(sum.offered - hung);
    expect(sum.producerResets).toBe(1);
    // The events queued behind the hung request waited for its deadline: their latency shows it.
    expect(sum.ackLatency!.maxMs).toBeGreaterThanOrEqual(495);
    const unknown = outcomes(s.records).filter((r) => r.outcome === 'unknown');
    expect(unknown[0]!.error).toMatch(/acksTimeoutMs/);
    exactlyOneOutcomeEach(s.records);
  });

  it('drain timeout: in flight -> unknown, never sent -> failed, drainComplete false', async () => {
    const s = setup({ rate: 1000, duration: '1s', acksTimeoutMs: 60_000, drainTimeoutMs: 500 }, () => 'hang');
    const sum = await finish(s, 2000);
    expect(sum.drainComplete).toBe(false);
    expect(sum.unknown).toBe(s.senders[0]!.sends[0]!.length);
    expect(sum.failed).toBe(sum.offered - sum.unknown);
    expect(sum.acked).toBe(0);
    exactlyOneOutcomeEach(s.records);
  });
});

describe('LoadDriver producers', () => {
  it('splits the one stream by partition: each partition has one producer, the union is the whole stream', async () => {
    const s = setup(
      { rate: 3000, duration: '1s', producers: 3, generator: { seed: 9, users: 300, producerId: 10 } },
      () => ({ after: 3 }),
      {
        partitions: 6,
        lanes: 3,
      },
    );
    const sum = await finish(s, 1500);
    expect(sum.producers).toBe(3);
    expect(sum.producerIds).toEqual([10, 11, 12]);
    expect(sum.offered).toBe(3000);
    const byIndex = new Map<number, string>();
    for (const r of offers(s.records)) {
      const [p, seq] = r.eventId.split('-').map(Number) as [number, number];
      expect(byIndex.has(seq)).toBe(false);
      byIndex.set(seq, r.eventId);
      expect(p).toBeGreaterThanOrEqual(10);
    }
    expect([...byIndex.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    s.senders.forEach((sender, k) => {
      for (const batch of sender.sends)
        for (const m of batch) {
          expect(m.partition % 3).toBe(k);
          expect(m.partition).toBe(partitionForKey(m.key, 6));
        }
    });
    // user_seq of a user is strictly increasing within its producer's offers
    const last = new Map<string, number>();
    for (const r of offers(s.records)) {
      const prev = last.get(r.userId);
      if (prev !== undefined) expect(r.userSeq).toBeGreaterThan(prev);
      last.set(r.userId, r.userSeq);
    }
  });
});

describe('resolveLoadOptions', () => {
  const base = { bootstrap: '127.0.0.1:1', topic: 't', history: { record() {} } as unknown as History };
  it.each([
    [{ rate: 10 }, /load.duration: expected a duration/],
    [{ rate: -1, duration: '1s' }, /load.rate: expected a number/],
    [{ rate: 10, stages: [], duration: '1s' }, /load.stages: expected either rate or stages/],
    [{ stages: [{ duration: '1s', rate: -5 }] }, /load.stages\[0\].rate/],
    [{ stages: [{ duration: 'soon', rate: 5 }] }, /load.stages\[0\].duration/],
    [{ rate: 10, duration: '1s', producers: 0 }, /load.producers/],
    [{ rate: 10, duration: '1s', compression: 'brotli' }, /load.compression/],
    [{ rate: 10, duration: '1s', generator: { ratePerSec: 5 } }, /load.generator.ratePerSec/],
    [{ rate: 10, duration: '1s', rat: 5 }, /load.rat: expected one of/],
  ])('rejects %j naming the path', (o, re) => {
    expect(() => resolveLoadOptions({ ...base, ...o } as LoadOptions)).toThrow(re);
  });

  it('defaults', () => {
    const r = resolveLoadOptions({ ...base, rate: 2000, duration: '5s' });
    expect(r).toMatchObject({
      durationMs: 5000,
      targetRate: 2000,
      producers: 1,
      acksTimeoutMs: 30_000,
      compression: 'none',
      idempotent: true,
    });
  });
});

describe('LoadDriver with several requests in flight per lane (maxInFlightRequests, fast client only)', () => {
  /** A sender whose sends complete when the test says; records how many were in flight at once. */
  class Gate implements LaneSender {
    open: { msgs: OutMessage[]; done: (e?: unknown) => void }[] = [];
    maxOpen = 0;
    resets = 0;
    send(msgs: OutMessage[], done: (e?: unknown) => void) {
      this.open.push({ msgs, done });
      this.maxOpen = Math.max(this.maxOpen, this.open.length);
    }
    outcomes(e: unknown) {
      return () => e as 'failed' | 'unknown';
    }
    describe(e: unknown) {
      return String(e);
    }
    reset() {
      this.resets++;
    }
    async close() {}
  }

  function run(maxInFlightRequests: number) {
    const clock = new FakeClock();
    const records: HistoryRecord[] = [];
    const history = { record: (r: HistoryRecord) => records.push(r) } as unknown as History;
    const cfg = resolveLoadOptions({
      bootstrap: '127.0.0.1:9092',
      topic: 't',
      history,
      generator: { seed: 1, users: 100 },
      rate: 10_000,
      duration: 100,
      client: 'fast',
      maxInFlightRequests,
      maxRequestRecords: 100,
    });
    const sender = new Gate();
    const driver = new LoadDriver(cfg, { history, clock, partitions: 4, senders: [sender] });
    return { clock, records, driver, sender };
  }

  it('keeps up to N requests in flight, and one failure resets the session once; every event one outcome', async () => {
    const r = run(3);
    r.driver.start();
    r.clock.advance(200); // every event offered; nothing answered yet
    expect(r.sender.open.length).toBe(3);
    // The oldest fails, the two behind it fail with it (as the broker would answer them): one reset, not three.
    const failing = r.sender.open.splice(0, 3);
    const failedEvents = failing.reduce((a, s) => a + s.msgs.length, 0);
    for (const s of failing) s.done('failed');
    expect(r.sender.resets).toBe(1);
    // The rest is sent 3 at a time and acked.
    for (let guard = 0; guard < 100 && r.sender.open.length > 0; guard++) {
      for (const s of r.sender.open.splice(0)) s.done();
    }
    const sum = await r.driver.done;
    expect(r.sender.maxOpen).toBe(3);
    expect(sum.offered).toBe(1000);
    expect(failedEvents).toBeGreaterThan(0);
    expect(sum.failed).toBe(failedEvents);
    expect(sum.acked).toBe(1000 - failedEvents);
    expect(sum.producerResets).toBe(1);
    const outcomes = r.records.filter((x) => x.kind === 'outcome').map((x) => x.eventId);
    expect(new Set(outcomes).size).toBe(1000);
    expect(outcomes.length).toBe(1000);
  });

  it('one request in flight by default, and more than one is refused for the general client', () => {
    const r = run(1);
    r.driver.start();
    r.clock.advance(200);
    expect(r.sender.open.length).toBe(1);
    expect(() =>
      resolveLoadOptions({
        bootstrap: '127.0.0.1:9092',
        topic: 't',
        history: { record() {} } as unknown as History,
        rate: 1,
        duration: 1,
        maxInFlightRequests: 2,
      }),
    ).toThrow(/maxInFlightRequests/);
  });
});
