import { compatibilityPartitioner, defaultPartitioner } from '@platformatic/kafka';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from './murmur2.ts';

// Printed by the real Kafka 4.1.1 jars: Utils.murmur2(key), then Utils.toPositive(h) % 3, % 12, % 7.
// (java -cp "$KAFKA_LIBS/*" Murmur.java; the first six are also Kafka's own UtilsTest vectors.)
const JAVA: [string, number, number, number, number][] = [
  ['21', -973932308, 0, 0, 3],
  ['foobar', -790332482, 0, 6, 0],
  ['a-little-bit-long-string', -985981536, 2, 8, 1],
  ['a-little-bit-longer-string', -1486304829, 2, 11, 0],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971, 2, 5, 3],
  ['abc', 479470107, 0, 3, 4],
  ['', 275646681, 0, 9, 2],
  ['u0000000', 1403086556, 2, 8, 4],
  ['u0000001', 992391481, 1, 1, 4],
  ['u0000042', -548730743, 0, 9, 1],
  ['u0099999', 468773380, 1, 4, 5],
  ['u1234567', 281621043, 0, 3, 4],
  ['u9999999', -896470581, 2, 11, 3],
];

describe('murmur2 (Kafka default partitioner)', () => {
  it.each(JAVA)('matches Java for %j', (key, hash, p3, p12, p7) => {
    const b = Buffer.from(key, 'latin1');
    expect(murmur2(b)).toBe(hash);
    expect(partitionForKey(b, 3)).toBe(p3);
    expect(partitionForKey(b, 12)).toBe(p12);
    expect(partitionForKey(b, 7)).toBe(p7);
  });

  it('hashes a byte range of a larger buffer without copying', () => {
    const b = Buffer.from('xxfoobaryy', 'latin1');
    expect(murmur2(b, 2, 8)).toBe(-790332482);
  });

  it("agrees with @platformatic/kafka's compatibilityPartitioner (its Java port) on any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 1000 }), (bytes, n) => {
        const key = Buffer.from(bytes);
        const theirs = compatibilityPartitioner({ topic: 't', key } as never, key) % n;
        expect(partitionForKey(key, n)).toBe(theirs);
      }),
      { numRuns: 500 },
    );
  });

  it("differs from @platformatic/kafka's defaultPartitioner for negative hashes (why we do not use it)", () => {
    const key = Buffer.from('u0000042', 'latin1'); // Java: hash -548730743, partition 9 of 12
    expect(defaultPartitioner({ topic: 't', key } as never, key) % 12).not.toBe(9);
    expect(partitionForKey(key, 12)).toBe(9);
  });
});
