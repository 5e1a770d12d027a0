/**
 * The fast sender's wire format, checked against an independent decoder (@platformatic/kafka's RecordBatch reader)
 * and Kafka's CRC32C: every record's key and (padded) value, offset deltas, producer id, epoch, base sequence, count,
 * per partition, with and without compression. The broker accepting these requests is covered by the bench
 * integration test (test/bench-cli.test.ts: every record acked and in the topic).
 */
import { crc32c, Reader, readRecordsBatch } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { createBulkGenerator } from '../../generators/bulk.ts';
import type { History, HistoryRecord } from '../history/index.ts';
import { StreamproofError } from '../util/errors.ts';
import { FakeClock } from './clock.ts';
import { type LaneSender, LoadDriver, type OutMessage } from './driver.ts';
import { FastLaneSender, ProduceEncoder, parseProduceResponse, sendError } from './fast-sender.ts';
import { partitionForKey } from './murmur2.ts';
import { type Compression, resolveLoadOptions } from './options.ts';

function messages(n: number, partitions: number): OutMessage[] {
  const b = createBulkGenerator({ seed: 3, ratePerSec: 1000 }).nextBatch(n);
  const bytes = Buffer.from(b.buffer.subarray(0, b.bounds[2 * n]!));
  return Array.from({ length: n }, (_, i) => {
    const k0 = b.bounds[2 * i]!;
    const k1 = b.bounds[2 * i + 1]!;
    return {
      topic: 't',
      key: bytes.subarray(k0, k1),
      value: bytes.subarray(k1, b.bounds[2 * i + 2]!),
      partition: partitionForKey(bytes, partitions, k0, k1),
    };
  });
}

interface Decoded {
  partition: number;
  crcOk: boolean;
  batch: ReturnType<typeof readRecordsBatch>;
}

function decodeBody(body: Buffer): { acks: number; timeout: number; topic: string; parts: Decoded[] } {
  let o = 0;
  expect(body.readInt16BE(o)).toBe(-1); // no transactional id
  const acks = body.readInt16BE(o + 2);
  const timeout = body.readInt32BE(o + 4);
  expect(body.readInt32BE(o + 8)).toBe(1);
  const tl = body.readInt16BE(o + 12);
  const topic = body.toString('utf8', o + 14, o + 14 + tl);
  o += 14 + tl;
  const np = body.readInt32BE(o);
  o += 4;
  const parts: Decoded[] = [];
  for (let k = 0; k < np; k++) {
    const partition = body.readInt32BE(o);
    const len = body.readInt32BE(o + 4);
    const raw = body.subarray(o + 8, o + 8 + len);
    const crcOk = raw.readUInt32BE(17) === crc32c(raw.subarray(21));
    parts.push({ partition, crcOk, batch: readRecordsBatch(Reader.from(raw)) });
    o += 8 + len;
  }
  expect(o).toBe(body.length);
  return { acks, timeout, topic, parts };
}

describe('ProduceEncoder', () => {
  it.each<[Compression, number]>([
    ['none', 0],
    ['none', 100],
    ['lz4', 100],
    ['gzip', 0],
    ['snappy', 100], // zstd needs Node >= 22.15 (the client's codec is node:zlib's)
  ])('compression %s, values padded to %i: every record decodes back, per partition, in order', (compression, pad) => {
    const msgs = messages(3000, 6);
    const enc = new ProduceEncoder('t', compression, pad);
    const plan = enc.plan(msgs);
    const body = Buffer.alloc(plan.bodySize);
    const firstSeq = new Map(plan.partitions.map((p) => [p, 1000 * p + 7]));
    enc.write(body, 0, plan, msgs, {
      acks: -1,
      timeoutMs: 30_000,
      producerId: 4242n,
      epoch: 3,
      firstSeq,
      timestamp: 1_700_000_000_000n,
    });
    const d = decodeBody(body);
    expect(d).toMatchObject({ acks: -1, timeout: 30_000, topic: 't' });
    expect(d.parts.map((p) => p.partition).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    for (const { partition, crcOk, batch } of d.parts) {
      expect(crcOk).toBe(true);
      const mine = msgs.filter((m) => m.partition === partition);
      expect(batch.producerId).toBe(4242n);
      expect(batch.producerEpoch).toBe(3);
      expect(batch.firstSequence).toBe(1000 * partition + 7);
      expect(batch.lastOffsetDelta).toBe(mine.length - 1);
      expect(batch.attributes & 0b111).toBe({ none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 }[compression]);
      expect(batch.records).toHaveLength(mine.length);
      batch.records.forEach((r, i) => {
        expect(r.offsetDelta).toBe(i);
        expect(Buffer.compare(r.key!, mine[i]!.key)).toBe(0);
        const v = mine[i]!.value;
        const want = v.length >= pad ? v : Buffer.concat([v, Buffer.alloc(pad - v.length)]);
        expect(Buffer.compare(r.value!, want)).toBe(0);
        expect(r.headers).toEqual([]);
      });
    }
  });
});

describe('ProduceEncoder retries', () => {
  it('a retry carries the same RecordBatches byte for byte (same producer id, epoch, sequences, CRC)', () => {
    const msgs = messages(500, 3);
    const enc = new ProduceEncoder('topic-x', 'none', 100);
    const plan = enc.plan(msgs);
    const body = Buffer.alloc(plan.bodySize);
    enc.write(body, 0, plan, msgs, {
      acks: -1,
      timeoutMs: 1000,
      producerId: 9n,
      epoch: 0,
      firstSeq: new Map(plan.partitions.map((p) => [p, 0])),
      timestamp: 1n,
    });
    const [p1, p2] = plan.partitions.slice(1);
    const parts = [p1!, p2!].map((p) => [p, body.subarray(...plan.batchAt.get(p)!)] as const);
    const retry = Buffer.alloc(enc.retrySize(parts));
    enc.writeRetry(retry, 0, parts, -1, 1000);
    const first = decodeBody(body);
    const again = decodeBody(retry);
    expect(again.parts.map((x) => x.partition)).toEqual([p1, p2]);
    for (const x of again.parts) {
      expect(x.crcOk).toBe(true);
      expect(x.batch).toEqual(first.parts.find((y) => y.partition === x.partition)!.batch);
    }
  });
});

describe('produce response and outcomes', () => {
  it('reads per-partition error codes of a Produce v8 response', () => {
    const parts: [number, number, string | null][] = [
      [0, 0, null],
      [1, 6, 'not leader'], // NOT_LEADER_OR_FOLLOWER
      [2, 7, null], // REQUEST_TIMED_OUT
    ];
    const chunks: Buffer[] = [];
    const i32 = (v: number) => {
      const b = Buffer.alloc(4);
      b.writeInt32BE(v);
      return b;
    };
    const i16 = (v: number) => {
      const b = Buffer.alloc(2);
      b.writeInt16BE(v);
      return b;
    };
    chunks.push(i32(1), i16(1), Buffer.from('t'), i32(parts.length));
    for (const [p, code, msg] of parts) {
      chunks.push(i32(p), i16(code), Buffer.alloc(24), i32(0));
      if (msg === null) chunks.push(i16(-1));
      else chunks.push(i16(msg.length), Buffer.from(msg));
    }
    chunks.push(i32(0)); // throttle
    const got: [number, number, string][] = [];
    parseProduceResponse(Buffer.concat(chunks), (p, c, m) => got.push([p, c, m]));
    expect(got).toEqual([
      [0, 0, ''],
      [1, 6, 'not leader'],
      [2, 7, ''],
    ]);
  });

  it('maps a failed send per partition, unknown for partitions it does not name', () => {
    const s = new FastLaneSender({
      bootstrap: '127.0.0.1:1',
      topic: 't',
      clientId: 'x',
      idempotent: true,
      compression: 'none',
      acksTimeoutMs: 1000,
    });
    const e = sendError(
      'NOT_LEADER_OR_FOLLOWER',
      new Map([
        [0, 'acked'],
        [1, 'failed'],
      ]),
      'unknown',
    );
    const of = s.outcomes(e);
    expect([of(0), of(1), of(2)]).toEqual(['acked', 'failed', 'unknown']);
    expect(s.outcomes(new Error('anything else'))(0)).toBe('unknown');
  });

  it('a send that never reaches a broker is failed, not unknown', async () => {
    const s = new FastLaneSender({
      bootstrap: '127.0.0.1:1',
      topic: 't',
      clientId: 'x',
      idempotent: true,
      compression: 'none',
      acksTimeoutMs: 1000,
      connectTimeoutMs: 500,
    });
    const err = await new Promise<unknown>((resolve) => s.send(messages(10, 2), resolve));
    expect(err).toBeInstanceOf(StreamproofError);
    expect((err as StreamproofError).code).toBe('LOAD_SEND_FAILED');
    expect(s.outcomes(err)(0)).toBe('failed');
    await s.close();
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
