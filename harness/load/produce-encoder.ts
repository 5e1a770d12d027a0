/**
 * Produce request v8 bodies for the fast sender: one RecordBatch v2 per partition, base timestamp = build time,
 * every record's timestamp delta 0, no headers; optional compression of the records (the client's codecs); CRC32C
 * native; `padValuesTo` (bench only) pads shorter values with zero bytes so a bench sends the same record size as
 * Kafka's ProducerPerformance. Pure: no I/O.
 */
import { type CompressionAlgorithmValue, compressionsAlgorithms, crc32c } from '@platformatic/kafka';
import type { Compression } from './options.ts';
import type { OutMessage } from './transport.ts';

const BATCH_HEADER = 61;

function zz(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function varintSize(u: number): number {
  return u < 0x80 ? 1 : u < 0x4000 ? 2 : u < 0x200000 ? 3 : u < 0x10000000 ? 4 : 5;
}

function writeVarint(b: Buffer, p: number, u: number): number {
  while (u >= 0x80) {
    b[p++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  b[p++] = u;
  return p;
}

const COMPRESSION_BITS: Record<Compression, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

export interface ProducePlan {
  /** Partitions in request order, records per partition, size of each partition's records section. */
  partitions: number[];
  counts: Map<number, number>;
  sections: Map<number, number>;
  /** Compressed sections (only with compression). */
  compressed: Map<number, Buffer>;
  bodySize: number;
  /** Filled by `write`: where each partition's RecordBatch sits in the buffer (start, end). */
  batchAt: Map<number, [number, number]>;
}

export interface BatchHeader {
  acks: number;
  timeoutMs: number;
  producerId: bigint;
  epoch: number;
  /** Base sequence per partition (-1 when not idempotent). */
  firstSeq: ReadonlyMap<number, number>;
  timestamp: bigint;
}

/**
 * Produce request v8 bodies for one topic: `plan` sizes everything (one pass over the records), `write` fills the
 * caller's buffer (a second pass: one copy of each key and value, CRC32C per batch). Pure: no I/O, unit-tested by
 * decoding its output with the client's own RecordBatch reader.
 */
export class ProduceEncoder {
  readonly #topic: Buffer;
  readonly #compression: Compression;
  readonly #pad: number;
  /** Per-message scratch (offset delta within its partition, record body size); grown on demand. */
  #delta = new Int32Array(1024);
  #size = new Int32Array(1024);

  constructor(topic: string, compression: Compression, padValuesTo = 0) {
    this.#topic = Buffer.from(topic, 'utf8');
    this.#compression = compression;
    this.#pad = padValuesTo;
  }

  plan(msgs: readonly OutMessage[]): ProducePlan {
    const counts = new Map<number, number>();
    const sections = new Map<number, number>();
    const n = msgs.length;
    if (this.#delta.length < n) {
      this.#delta = new Int32Array(n * 2);
      this.#size = new Int32Array(n * 2);
    }
    const delta = this.#delta;
    const size = this.#size;
    const pad = this.#pad;
    for (let i = 0; i < n; i++) {
      const m = msgs[i]!;
      const c = counts.get(m.partition) ?? 0;
      counts.set(m.partition, c + 1);
      delta[i] = c;
      const kl = m.key.length;
      const vl = Math.max(m.value.length, pad);
      const body = 1 + 1 + varintSize(zz(c)) + varintSize(zz(kl)) + kl + varintSize(zz(vl)) + vl + 1;
      size[i] = body;
      sections.set(m.partition, (sections.get(m.partition) ?? 0) + varintSize(zz(body)) + body);
    }
    const partitions = [...counts.keys()];
    const compressed = new Map<number, Buffer>();
    if (this.#compression !== 'none') {
      const algo = compressionsAlgorithms[this.#compression as CompressionAlgorithmValue];
      for (const p of partitions) {
        const raw = Buffer.allocUnsafe(sections.get(p)!);
        let o = 0;
        for (let i = 0; i < n; i++) if (msgs[i]!.partition === p) o = this.#writeRecord(raw, o, msgs[i]!, i);
        const out = algo.compressSync(raw) as unknown;
        const buf = Buffer.isBuffer(out)
          ? out
          : Buffer.from((out as { buffer: Uint8Array }).buffer ?? (out as Uint8Array));
        compressed.set(p, buf);
        sections.set(p, buf.length);
      }
    }
    let bodySize = 2 + 2 + 4 + 4 + 2 + this.#topic.length + 4;
    for (const p of partitions) bodySize += 4 + 4 + BATCH_HEADER + sections.get(p)!;
    return { partitions, counts, sections, compressed, bodySize, batchAt: new Map() };
  }

  /** Writes the body planned by `plan(msgs)` (the same msgs, before any other plan call) at b[o..o+bodySize). */
  write(b: Buffer, o: number, plan: ProducePlan, msgs: readonly OutMessage[], h: BatchHeader): void {
    const n = msgs.length;
    const attrs = COMPRESSION_BITS[this.#compression];
    b.writeInt16BE(-1, o); // transactional_id null
    b.writeInt16BE(h.acks, o + 2);
    b.writeInt32BE(h.timeoutMs, o + 4);
    b.writeInt32BE(1, o + 8); // one topic
    b.writeInt16BE(this.#topic.length, o + 12);
    this.#topic.copy(b, o + 14);
    o += 14 + this.#topic.length;
    b.writeInt32BE(plan.partitions.length, o);
    o += 4;
    for (const p of plan.partitions) {
      const count = plan.counts.get(p)!;
      const sec = plan.sections.get(p)!;
      b.writeInt32BE(p, o);
      b.writeInt32BE(BATCH_HEADER + sec, o + 4);
      const batchStart = o + 8;
      b.writeBigInt64BE(0n, batchStart); // base offset
      b.writeInt32BE(BATCH_HEADER - 12 + sec, batchStart + 8); // batch length: the bytes after this field
      b.writeInt32BE(-1, batchStart + 12); // partition leader epoch
      b[batchStart + 16] = 2; // magic
      const crcAt = batchStart + 17;
      b.writeInt16BE(attrs, batchStart + 21);
      b.writeInt32BE(count - 1, batchStart + 23); // last offset delta
      b.writeBigInt64BE(h.timestamp, batchStart + 27); // base timestamp
      b.writeBigInt64BE(h.timestamp, batchStart + 35); // max timestamp
      b.writeBigInt64BE(h.producerId, batchStart + 43);
      b.writeInt16BE(h.epoch, batchStart + 51);
      b.writeInt32BE(h.firstSeq.get(p) ?? -1, batchStart + 53);
      b.writeInt32BE(count, batchStart + 57);
      let w = batchStart + BATCH_HEADER;
      const c = plan.compressed.get(p);
      if (c === undefined) {
        for (let i = 0; i < n; i++) if (msgs[i]!.partition === p) w = this.#writeRecord(b, w, msgs[i]!, i);
      } else {
        c.copy(b, w);
        w += c.length;
      }
      b.writeUInt32BE(crc32c(b.subarray(crcAt + 4, w)), crcAt);
      plan.batchAt.set(p, [batchStart, w]);
      o = w;
    }
  }

  /** Body size of a retry: the same RecordBatches, byte for byte, for some partitions. */
  retrySize(parts: readonly (readonly [number, Buffer])[]): number {
    let n = 2 + 2 + 4 + 4 + 2 + this.#topic.length + 4;
    for (const [, batch] of parts) n += 4 + 4 + batch.length;
    return n;
  }

  writeRetry(b: Buffer, o: number, parts: readonly (readonly [number, Buffer])[], acks: number, timeoutMs: number) {
    b.writeInt16BE(-1, o);
    b.writeInt16BE(acks, o + 2);
    b.writeInt32BE(Math.min(timeoutMs, 0x7fffffff), o + 4);
    b.writeInt32BE(1, o + 8);
    b.writeInt16BE(this.#topic.length, o + 12);
    this.#topic.copy(b, o + 14);
    o += 14 + this.#topic.length;
    b.writeInt32BE(parts.length, o);
    o += 4;
    for (const [p, batch] of parts) {
      b.writeInt32BE(p, o);
      b.writeInt32BE(batch.length, o + 4);
      batch.copy(b, o + 8);
      o += 8 + batch.length;
    }
  }

  #writeRecord(b: Buffer, o: number, m: OutMessage, i: number): number {
    const key = m.key;
    const value = m.value;
    const kl = key.length;
    const vl0 = value.length;
    const vl = Math.max(vl0, this.#pad);
    o = writeVarint(b, o, zz(this.#size[i]!));
    b[o++] = 0; // attributes
    b[o++] = 0; // timestamp delta
    o = writeVarint(b, o, zz(this.#delta[i]!));
    o = writeVarint(b, o, zz(kl));
    for (let k = 0; k < kl; k++) b[o + k] = key[k]!;
    o += kl;
    o = writeVarint(b, o, zz(vl));
    if (vl0 > 48) value.copy(b, o);
    else for (let k = 0; k < vl0; k++) b[o + k] = value[k]!;
    if (vl > vl0) b.fill(0, o + vl0, o + vl);
    o += vl;
    b[o++] = 0; // headers
    return o;
  }
}
