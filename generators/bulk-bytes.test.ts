import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeLong } from './bulk-bytes.ts';
import { EVENT_TYPES_AVRO } from './schemas.ts';

describe('bulk byte writers', () => {
  it('writeLong matches avsc for every safe integer range', () => {
    // avsc refuses longs beyond +-(2^53 - 2); every timestamp and sequence we write is far below 2^52.
    const big = 2 ** 52;
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -big, max: big }), fc.integer()), (x) => {
        const buf = new Uint8Array(10);
        const end = writeLong(buf, 0, x);
        const tap = Buffer.alloc(10);
        const n = (
          EVENT_TYPES_AVRO[1] as unknown as { fields: { type: { encode(v: number, b: Buffer, p: number): number } }[] }
        ).fields[2]!.type.encode(x, tap, 0);
        expect(Buffer.from(buf.subarray(0, end)).equals(tap.subarray(0, n))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
