/**
 * The fast sender's wire format, checked against an independent decoder (@platformatic/kafka's RecordBatch reader)
 * and Kafka's CRC32C: every record's key and (padded) value, offset deltas, producer id, epoch, base sequence, count,
 * per partition, with and without compression. The broker accepting these requests is covered by the bench
 * integration test (test/bench-cli.test.ts: every record acked and in the topic).
 */
import { crc32c, Reader, readRecordsBatch } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { createBulkGenerator } from '../../generators/bulk.ts';
import { partitionForKey } from './murmur2.ts';
import type { Compression } from './options.ts';
import { ProduceEncoder } from './produce-encoder.ts';
import type { OutMessage } from './transport.ts';

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
