/**
 * The load driver against a real one-broker stack: the open model holds its rate, every offer gets one outcome,
 * what was acked is what is read back (read_committed), and faults on the proxy show up as latency and as
 * unknown outcomes, never as lost acked events.
 */
import { randomUUID } from 'node:crypto';
import { Consumer } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAvro, decodeConfluent } from '../generators/schemas.ts';
import { checkExactlyOnce, checkOrder } from '../harness/checkers/index.ts';
import { History, type HistoryRecord } from '../harness/history/index.ts';
import { closeNow, ensureTopic } from '../harness/kafka/clients.ts';
import { type LoadSummary, partitionForKey, startLoad } from '../harness/load/index.ts';
import { type StartedStack, startStack } from '../harness/stack/stack.ts';

const PARTITIONS = 6;

/** A History that also remembers the offered ids and outcomes (the real one keeps only bitsets). */
function recordingHistory() {
  const history = new History();
  const offered = new Set<string>();
  const outcomes = new Map<string, string>();
  const recorder = {
    record(r: HistoryRecord) {
      if (r.kind === 'offered') offered.add(r.eventId);
      else if (r.kind === 'outcome') outcomes.set(r.eventId, r.outcome);
      history.record(r);
    },
  } as unknown as History;
  return { history, recorder, offered, outcomes };
}

interface Read {
  eventId: string;
  key: string;
  partition: number;
  offset: number;
}

/**
 * Reads the topic from the start with read_committed until `atLeast` records arrived and nothing new came for
 * `idleMs`, adding an `observed` record per record and a `drain` record at the end.
 */
async function readBack(
  bootstrap: string,
  topic: string,
  history: History,
  atLeast: number,
  idleMs = 3000,
): Promise<Read[]> {
  const consumer = new Consumer({
    clientId: 'load-test-reader',
    groupId: `load-test-${randomUUID()}`,
    bootstrapBrokers: [bootstrap],
    maxWaitTime: 200,
    timeout: 10_000,
  });
  const got: Read[] = [];
  let complete = false;
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, isolationLevel: 1 });
    let last = Date.now();
    const deadline = Date.now() + 60_000;
    const timer = setInterval(() => {
      const now = Date.now();
      if ((got.length >= atLeast && now - last > idleMs) || now > deadline) {
        complete = got.length >= atLeast;
        void stream.close();
      }
    }, 100);
    try {
      for await (const m of stream) {
        last = Date.now();
        const key = (m.key as Buffer).toString('latin1');
        const e = decodeAvro(decodeConfluent(m.value as Buffer).body, 3);
        const offset = Number(m.offset);
        got.push({ eventId: e.event_id, key, partition: m.partition, offset });
        history.record({
          kind: 'observed',
          time: Date.now(),
          eventId: e.event_id,
          key,
          partition: m.partition,
          offset,
          userSeq: e.user_seq,
          sentAt: e.sent_at,
        });
      }
    } finally {
      clearInterval(timer);
      await stream.close().catch(() => {});
    }
  } finally {
    await closeNow(consumer);
  }
  history.record({ kind: 'drain', time: Date.now(), complete });
  return got;
}

function show(s: LoadSummary): string {
  const {
    offered,
    acked,
    failed,
    unknown,
    targetRate,
    offeredRate,
    scheduleLag,
    ackLatency,
    requests,
    meanBatch,
    producerResets,
  } = s;
  return JSON.stringify({
    offered,
    acked,
    failed,
    unknown,
    targetRate,
    offeredRate,
    scheduleLag,
    ackLatency,
    requests,
    meanBatch,
    producerResets,
  });
}

describe('load driver on a real stack', () => {
  let stack: StartedStack;
  beforeAll(async () => {
    stack = await startStack({ brokers: 1, registry: false });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('5 s at 2000 events/s: ~10 000 offered, all acked, read back exactly, keyed by user, exactly-once passes', async () => {
    const topic = `load-${randomUUID()}`;
    await ensureTopic(stack.bootstrap, topic, { partitions: PARTITIONS });
    const h = recordingHistory();
    const load = startLoad({
      bootstrap: stack.proxiedBootstrap,
      topic,
      history: h.recorder,
      generator: { seed: 11, users: 2000 },
      rate: 2000,
      duration: '5s',
      producers: 2,
    });
    const sum = await load.done;
    console.log('load (a)', show(sum));
    expect(sum.offered).toBe(10_000);
    expect(sum.scheduled).toBe(10_000);
    expect(sum.acked).toBe(10_000);
    expect(sum.failed + sum.unknown).toBe(0);
    expect(sum.offeredRate).toBeGreaterThan(1800);
    expect(sum.offeredRate).toBeLessThan(2200);
    expect(h.offered.size).toBe(10_000);

    const read = await readBack(stack.bootstrap, topic, h.history, sum.acked);
    expect(new Set(read.map((r) => r.eventId))).toEqual(h.offered);
    expect(read.length).toBe(10_000);
    const partitionsOfUser = new Map<string, Set<number>>();
    for (const r of read) {
      const s = partitionsOfUser.get(r.key) ?? new Set();
      s.add(r.partition);
      partitionsOfUser.set(r.key, s);
      // where a Java producer would have put it
      expect(r.partition).toBe(partitionForKey(Buffer.from(r.key, 'latin1'), PARTITIONS));
    }
    expect([...partitionsOfUser.values()].every((s) => s.size === 1)).toBe(true);

    const eo = checkExactlyOnce(h.history);
    expect(eo.valid).toBe(true);
    expect(eo.counts).toMatchObject({
      offered: 10_000,
      acked: 10_000,
      seen: 10_000,
      lost: 0,
      duplicated: 0,
      unexpected: 0,
    });
    expect(checkOrder(h.history).valid).toBe(true);
  });

  it('coordinated omission: a 300 ms latency toxic keeps the offered rate and shows in ack latency', async () => {
    const topic = `load-lat-${randomUUID()}`;
    await ensureTopic(stack.bootstrap, topic, { partitions: PARTITIONS });
    const proxy = await stack.toxiproxy.get('broker-1');
    const toxic = await proxy.addToxic({
      type: 'latency',
      attributes: { latency: 300 },
      stream: 'downstream',
      toxicity: 1,
      name: 'x',
    } as never);
    let sum: LoadSummary;
    try {
      const h = recordingHistory();
      sum = await startLoad({
        bootstrap: stack.proxiedBootstrap,
        topic,
        history: h.recorder,
        generator: { seed: 12, users: 1000 },
        rate: 1000,
        duration: '5s',
      }).done;
    } finally {
      await (toxic as { remove(): Promise<void> }).remove();
    }
    console.log('load (b)', show(sum));
    expect(sum.offered).toBe(5000);
    expect(sum.offeredRate).toBeGreaterThan(900);
    expect(sum.offeredRate).toBeLessThan(1100);
    // The toxic delays acks, not the pacing loop: at most a few offers late from event-loop hiccups on a busy machine.
    expect(sum.scheduleLag.lateOffers).toBeLessThan(sum.offered * 0.05);
    expect(sum.acked).toBe(5000);
    expect(sum.ackLatency!.p50Ms).toBeGreaterThanOrEqual(290);
    // one request in flight per producer: an event waits for the request ahead of it, then its own
    expect(sum.meanBatch).toBeGreaterThan(50);
  });

  it('a 2 s partition mid-run: acked only what landed, the rest unknown/failed, nothing acked is lost', async () => {
    const topic = `load-part-${randomUUID()}`;
    await ensureTopic(stack.bootstrap, topic, { partitions: PARTITIONS });
    const proxy = await stack.toxiproxy.get('broker-1');
    const h = recordingHistory();
    const load = startLoad({
      bootstrap: stack.proxiedBootstrap,
      topic,
      history: h.recorder,
      generator: { seed: 13, users: 1000 },
      rate: 1000,
      duration: '7s',
      acksTimeoutMs: 1000,
    });
    const { startTime } = await load.ready;
    try {
      await sleepUntil(startTime + 2000);
      await proxy.update({ listen: proxy.listen, upstream: proxy.upstream, enabled: false });
      await sleepUntil(startTime + 4000);
    } finally {
      await proxy.update({ listen: proxy.listen, upstream: proxy.upstream, enabled: true });
    }
    const sum = await load.done;
    console.log('load (c)', show(sum));
    expect(sum.offered).toBe(7000);
    expect(sum.acked + sum.failed + sum.unknown).toBe(7000);
    expect(sum.failed + sum.unknown).toBeGreaterThan(0);
    expect(sum.acked).toBeGreaterThan(3000);
    // the open model kept offering through the partition
    expect(sum.offeredRate).toBeGreaterThan(900);

    const read = await readBack(stack.bootstrap, topic, h.history, sum.acked);
    const seen = new Set(read.map((r) => r.eventId));
    for (const [id, o] of h.outcomes) {
      if (o === 'acked') expect(seen.has(id)).toBe(true);
      if (o === 'failed') expect(seen.has(id)).toBe(false);
    }
    const eo = checkExactlyOnce(h.history);
    console.log('exactly-once (c)', JSON.stringify(eo.counts));
    expect(eo.counts.lost).toBe(0);
    expect(eo.counts.duplicated).toBe(0);
    expect(eo.counts.unexpected).toBe(0);
    expect(eo.valid).toBe(true);
  });

  it('a missing topic rejects ready and done with LOAD_TOPIC_MISSING', async () => {
    const load = startLoad({
      bootstrap: stack.bootstrap,
      topic: `missing-${randomUUID()}`,
      history: new History(),
      rate: 10,
      duration: '1s',
      acksTimeoutMs: 5000,
    });
    await expect(load.ready).rejects.toMatchObject({ code: 'LOAD_TOPIC_MISSING' });
    await expect(load.done).rejects.toMatchObject({ code: 'LOAD_TOPIC_MISSING' });
  });
});

function sleepUntil(t: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, t - Date.now())));
}
