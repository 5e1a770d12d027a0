import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { traffic } from './arbitrary/traffic.ts';
import { createBulkGenerator } from './bulk.ts';
import { CHANNELS, EVENT_TYPES, type Event, SCHEMA_VERSIONS } from './event.ts';
import { EventFields, step, TrafficState, toEvent } from './model.ts';
import { optionError } from './options.ts';
import { Sfc32 } from './prng.ts';
import { decodeAvro, decodeConfluent, EVENT_TYPES_AVRO, encodeJson } from './schemas.ts';

describe('bulk generator bytes', () => {
  for (const v of SCHEMA_VERSIONS) {
    it(`avro v${v}: hand-written bytes equal avsc toBuffer, framed with the schema id`, () => {
      const g = createBulkGenerator({ seed: 11, format: 'avro', schemaVersion: v, schemaId: 0x01020304, users: 300 });
      const b = g.nextBatch(5000);
      for (let i = 0; i < b.count; i++) {
        const e = g.eventAt(i);
        const { schemaId, body } = decodeConfluent(b.value(i));
        expect(schemaId).toBe(0x01020304);
        expect(body.equals(EVENT_TYPES_AVRO[v].toBuffer(e))).toBe(true);
        expect(b.key(i).toString()).toBe(e.user_id);
      }
    });
    it(`json v${v}: hand-written bytes equal encodeJson`, () => {
      const g = createBulkGenerator({ seed: 12, format: 'json', schemaVersion: v, users: 300 });
      const b = g.nextBatch(5000);
      for (let i = 0; i < b.count; i++) expect(b.value(i).toString()).toBe(encodeJson(g.eventAt(i)).toString());
    });
  }

  it('is deterministic from its seed, across batch sizes', () => {
    const bytesA: Buffer[] = [];
    const bytesB: Buffer[] = [];
    const g1 = createBulkGenerator({ seed: 5 });
    const x = g1.nextBatch(3000);
    for (let i = 0; i < 3000; i++) bytesA.push(Buffer.from(x.value(i)));
    const g2 = createBulkGenerator({ seed: 5 });
    for (const n of [1, 999, 2000]) {
      const y = g2.nextBatch(n);
      for (let i = 0; i < n; i++) bytesB.push(Buffer.from(y.value(i)));
    }
    expect(bytesB).toEqual(bytesA);
    const other = createBulkGenerator({ seed: 6 }).nextBatch(10);
    expect(other.value(0).equals(bytesA[0]!) && other.value(1).equals(bytesA[1]!)).toBe(false);
  });

  it('exposes per record the producer seq, user index and user_seq without decoding, across batches', () => {
    const g = createBulkGenerator({ seed: 21, users: 40, producerId: 9, format: 'json' });
    for (const n of [700, 1, 1500]) {
      const b = g.nextBatch(n);
      expect(b.producerId).toBe(9);
      for (let i = 0; i < n; i++) {
        const e = g.eventAt(b.firstIndex + i);
        expect(b.eventId(i)).toBe(e.event_id);
        expect(`9-${b.seq(i)}`).toBe(e.event_id);
        expect(b.userId(i)).toBe(e.user_id);
        expect(b.userIndices[i]).toBe(b.userIndex(i));
        expect(b.userSeqs[i]).toBe(e.user_seq);
        expect(b.userSeq(i)).toBe(e.user_seq);
        expect(b.key(i).toString()).toBe(e.user_id);
      }
    }
    expect(() => g.nextBatch(2).userSeq(2)).toThrowError(/record index 2 outside \[0, 2\)/);
  });

  it('writes every user id of a 10M-user stream and every seq digit count (odometer) like avsc', () => {
    const g = createBulkGenerator({ seed: 4, users: 10_000_000, heavyUsers: 1 });
    // Skip to seqs around 9_999 / 99_999 so the decimal seq gains a digit inside a batch.
    g.nextBatch(9_990);
    const b = g.nextBatch(90_100);
    // The reference: model.ts step over the same sfc32 stream (what eventAt does, without replaying per record).
    const rng = new Sfc32(4);
    const state = new TrafficState(g.model.users);
    const f = new EventFields();
    for (let i = 0; i < b.firstIndex; i++) step(g.model, state, rng, f);
    let maxUser = 0;
    for (let i = 0; i < b.count; i++) {
      step(g.model, state, rng, f);
      if (!(i < 20 || (i > 89_990 && i < 90_030) || i % 37 === 0)) continue;
      const e = toEvent(g.model, f);
      expect(decodeConfluent(b.value(i)).body.equals(EVENT_TYPES_AVRO[3].toBuffer(e))).toBe(true);
      maxUser = Math.max(maxUser, b.userIndex(i));
    }
    expect(maxUser).toBeGreaterThan(9_000_000);
  }, 60_000);

  it('validates options once, naming the path', () => {
    expect(() => createBulkGenerator({ users: 0 })).toThrowError(
      optionError('bulk.users', 'an integer in [1, 10000000]', 0),
    );
    expect(() => createBulkGenerator({ format: 'xml' as 'json' })).toThrowError(
      /bulk.format: expected one of "avro", "json"/,
    );
    expect(() => createBulkGenerator({ usres: 5 } as object)).toThrowError(/bulk.usres: expected one of/);
    expect(() => createBulkGenerator({ typeWeights: { click: -1 } })).toThrowError(/bulk.typeWeights.click/);
  });
});

/**
 * The test's own scanner of bulk Avro records: reads producer seq, user and user_seq straight from the bytes (the
 * layout is fixed), so 10 million records check in seconds. Checked against avsc first (helpers get tested too).
 */
function scan(value: Uint8Array, start: number): { seq: number; userSeq: number } {
  let p = start + 5;
  const idLen = value[p++]! >> 1;
  const end = p + idLen;
  while (value[p] !== 0x2d) p++;
  p++;
  let seq = 0;
  while (p < end) seq = seq * 10 + (value[p++]! - 0x30);
  p += 9; // user_id: length byte + 8 ASCII bytes (the key already names the user)
  let shift = 1;
  let z = 0;
  for (;;) {
    const byte = value[p++]!;
    z += (byte & 0x7f) * shift;
    if (byte < 0x80) break;
    shift *= 128;
  }
  return { seq, userSeq: z / 2 };
}

describe('10 million bulk events', () => {
  it('the scanner agrees with avsc', () => {
    const g = createBulkGenerator({ seed: 3, users: 50 });
    const b = g.nextBatch(2000);
    for (let i = 0; i < b.count; i++) {
      const e = decodeAvro(decodeConfluent(b.value(i)).body, 3);
      expect(scan(b.buffer, b.bounds[2 * i + 1]!)).toEqual({
        seq: Number(e.event_id.split('-')[1]),
        userSeq: e.user_seq,
      });
    }
  });

  it('event ids are unique and user_seq strictly increases per user', () => {
    const total = 10_000_000;
    const users = 100_000;
    const g = createBulkGenerator({ seed: 2024, users, producerId: 7 });
    const seen = new Uint8Array(Math.ceil(total / 8)); // one bit per producer seq
    const lastSeq = new Int32Array(users).fill(-1);
    let violations = 0;
    for (let done = 0; done < total; ) {
      const b = g.nextBatch(Math.min(1 << 16, total - done));
      const buf = b.buffer;
      for (let i = 0; i < b.count; i++) {
        const k = b.bounds[2 * i]!;
        let user = 0;
        for (let d = 1; d <= 7; d++) user = user * 10 + (buf[k + d]! - 0x30);
        const { seq, userSeq } = scan(buf, b.bounds[2 * i + 1]!);
        const bit = 1 << (seq & 7);
        if (seq >= total || seen[seq >>> 3]! & bit) violations++;
        else seen[seq >>> 3]! |= bit;
        if (userSeq <= lastSeq[user]!) violations++;
        lastSeq[user] = userSeq;
      }
      done += b.count;
    }
    expect(violations).toBe(0);
    // Every seq 0..total-1 appeared exactly once (no gaps either).
    let ones = 0;
    for (let i = 0; i < seen.length; i++) for (let x = seen[i]!; x; x &= x - 1) ones++;
    expect(ones).toBe(total);
  }, 60_000);
});

describe('traffic arbitrary invariants', () => {
  it('user_seq is 0,1,2.. per user in emission order; event ids unique; time model holds', () => {
    fc.assert(
      fc.property(traffic({ users: 5, maxBurst: 4 }), (events: Event[]) => {
        const next = new Map<string, number>();
        const ids = new Set<string>();
        for (const e of events) {
          expect(e.user_seq).toBe(next.get(e.user_id) ?? 0);
          next.set(e.user_id, e.user_seq + 1);
          expect(ids.has(e.event_id)).toBe(false);
          ids.add(e.event_id);
          expect(e.event_time).toBeLessThanOrEqual(e.sent_at);
          expect(EVENT_TYPES).toContain(e.type);
          expect(CHANNELS).toContain(e.channel);
          expect(e.revenue === null).toBe(e.type !== 'conversion');
        }
      }),
    );
  });
});
