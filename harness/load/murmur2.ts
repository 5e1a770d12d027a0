/**
 * Kafka's key partitioner, byte for byte: `toPositive(murmur2(key)) % partitions`, as the Java producer's
 * BuiltInPartitioner.partitionForKey does, so a keyed record lands where a Java producer would put it.
 *
 * Why our own: @platformatic/kafka's `defaultPartitioner` returns `murmur2(key) >>> 0` (unsigned), which differs from
 * Java's `murmur2(key) & 0x7fffffff` whenever the hash is negative (half the keys): its `compatibilityPartitioner` is
 * the Java one. Both run murmur2 on BigInts (~1 µs per key); this is 32-bit `Math.imul` arithmetic on a byte range of
 * the generator's buffer, with no Buffer created. Vectors from the real Kafka 4.1 jars are in `murmur2.test.ts`.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's `Utils.murmur2` of bytes[start, end): a signed 32-bit integer. */
export function murmur2(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const length = end - start;
  let h = SEED ^ length;
  let i = start;
  const stop = start + (length & ~3);
  while (i < stop) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
    i += 4;
  }
  // Java's switch falls through 3 -> 2 -> 1.
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= bytes[i + 2]! << 16;
    if (tail >= 2) h ^= bytes[i + 1]! << 8;
    h ^= bytes[i]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner picks for a key: `(murmur2(key) & 0x7fffffff) % partitions`. */
export function partitionForKey(bytes: Uint8Array, partitions: number, start = 0, end = bytes.length): number {
  return (murmur2(bytes, start, end) & 0x7fffffff) % partitions;
}
