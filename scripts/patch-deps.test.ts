/**
 * The performance patch of @platformatic/kafka's record encoding (scripts/patch-deps.js, one-buffer-records) writes
 * the bytes the client's own per-record encoder writes: every record of a batch is compared with `createRecord`, the
 * unpatched function still exported beside it, and the batch decodes back through the client's reader.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const dist = join(require.resolve('@platformatic/kafka'), '..');
const records = await import(join(dist, 'protocol', 'records.js'));
const { Reader } = await import(join(dist, 'protocol', 'reader.js'));
const { DynamicBuffer } = await import('@platformatic/dynamic-buffer');

type Msg = {
  topic: string;
  key?: Buffer | null;
  value: Buffer | null;
  headers?: Map<Buffer, Buffer | null>;
  timestamp?: bigint;
};

function oldEncoding(messages: Msg[], firstTimestamp: bigint): Buffer {
  const b = new DynamicBuffer();
  messages.forEach((m, i) => {
    b.appendFrom(records.createRecord(m, i, firstTimestamp).dynamicBuffer);
  });
  return b.buffer;
}

/** The records section of a batch: after the 61-byte header (base offset .. record count). */
const recordsOf = (batch: { buffer: Buffer }) => batch.buffer.subarray(61);

describe('one-buffer-records patch', () => {
  it('is applied', () => {
    expect(readFileSync(join(dist, 'protocol', 'records.js'), 'utf8')).toContain(
      'streamproof-patch: one-buffer-records',
    );
  });

  it('writes the same bytes as createRecord, for every shape of record', () => {
    const t0 = 1_796_000_000_000n;
    const big = Buffer.alloc(70_000, 7);
    const messages: Msg[] = [
      { topic: 't', key: Buffer.from('u0000001'), value: Buffer.from('{"a":1}'), timestamp: t0 },
      { topic: 't', key: null, value: Buffer.from('x'), timestamp: t0 + 5n },
      { topic: 't', key: Buffer.alloc(0), value: null, timestamp: t0 - 3n },
      { topic: 't', key: Buffer.from('k'), value: big, timestamp: t0 + 1_000_000n },
      {
        topic: 't',
        key: Buffer.from('k2'),
        value: Buffer.from('v'),
        headers: new Map<Buffer, Buffer | null>([
          [Buffer.from('streamproof-input-offset'), Buffer.from('12345')],
          [Buffer.from('empty'), Buffer.alloc(0)],
          [Buffer.from('null'), null],
        ]),
        timestamp: t0 + 200n,
      },
      ...Array.from({ length: 300 }, (_, i) => ({
        topic: 't',
        key: Buffer.from(`user-${i}`),
        value: Buffer.alloc(i * 3, i % 251),
        timestamp: t0 + BigInt(i),
      })),
    ];
    const expected = oldEncoding(
      messages.map((m) => ({ ...m })),
      t0,
    );
    const batch = records.createRecordsBatch(
      messages.map((m) => ({ ...m })),
      {},
    );
    expect(Buffer.compare(recordsOf(batch), expected)).toBe(0);
  });

  it('decodes back through the client reader', () => {
    const messages: Msg[] = Array.from({ length: 50 }, (_, i) => ({
      topic: 't',
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`v${i}`.repeat(i)),
      headers: new Map([[Buffer.from('h'), Buffer.from(String(i))]]),
    }));
    const batch = records.createRecordsBatch(messages, {});
    const read = records.readRecordsBatch(Reader.from(batch.buffer));
    expect(read.records.map((r: { key: Buffer }) => r.key.toString())).toEqual(messages.map((m) => m.key!.toString()));
    expect(read.records.map((r: { value: Buffer }) => r.value.toString())).toEqual(
      messages.map((m) => m.value!.toString()),
    );
    expect(read.records[7].headers[0][1].toString()).toBe('7');
  });
});
