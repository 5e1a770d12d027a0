/**
 * Byte writers of the bulk generator's encoders (bulk-avro.ts, bulk-json.ts): ASCII digits without strings, Avro
 * longs (zigzag varints), timestamps, revenue in the shortest JSON form. Each writes at `p` into a plain Uint8Array
 * and returns the position after what it wrote.
 */

/** The bytes of an ASCII string. */
export function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/**
 * A millisecond timestamp as an Avro long: writeLong specialised for values in [2^27, 2^52), 5 to 8 bytes (every
 * time since 1974 and before year 142 000). Other values take the general path.
 */
export function writeTime(b: Uint8Array, p: number, v: number): number {
  if (!(v >= 0x8000000 && v < 0x10000000000000)) return writeLong(b, p, v);
  const n = v * 2;
  let hi = Math.floor(n / 0x10000000);
  const lo = n - hi * 0x10000000;
  b[p] = (lo & 0x7f) | 0x80;
  b[p + 1] = ((lo >>> 7) & 0x7f) | 0x80;
  b[p + 2] = ((lo >>> 14) & 0x7f) | 0x80;
  b[p + 3] = ((lo >>> 21) & 0x7f) | 0x80;
  if (hi >= 0x80 && hi < 0x4000) {
    // 2^35 <= 2v < 2^42: every time between 1971 and 2109, 6 bytes
    b[p + 4] = (hi & 0x7f) | 0x80;
    b[p + 5] = hi >>> 7;
    return p + 6;
  }
  p += 4;
  while (hi >= 0x80) {
    b[p++] = (hi & 0x7f) | 0x80;
    hi >>>= 7;
  }
  b[p++] = hi;
  return p;
}

export function copy(b: Uint8Array, p: number, src: Uint8Array): number {
  for (let k = 0; k < src.length; k++) b[p++] = src[k]!;
  return p;
}

/** "u" + 7 zero-padded digits of the user index: the user_id, also the Kafka key. */
export function writeUserDigits(b: Uint8Array, p: number, user: number): number {
  b[p] = 0x75;
  return writeSevenDigits(b, p + 1, user);
}

/** "00".."99": two digits per division. */
const DIGIT_PAIRS = ascii(Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0')).join(''));

export function writeSevenDigits(b: Uint8Array, p: number, x: number): number {
  const q1 = (x / 100) | 0;
  const r1 = (x - q1 * 100) * 2;
  const q2 = (q1 / 100) | 0;
  const r2 = (q1 - q2 * 100) * 2;
  const q3 = (q2 / 100) | 0;
  const r3 = (q2 - q3 * 100) * 2;
  b[p] = 0x30 + q3;
  b[p + 1] = DIGIT_PAIRS[r3]!;
  b[p + 2] = DIGIT_PAIRS[r3 + 1]!;
  b[p + 3] = DIGIT_PAIRS[r2]!;
  b[p + 4] = DIGIT_PAIRS[r2 + 1]!;
  b[p + 5] = DIGIT_PAIRS[r1]!;
  b[p + 6] = DIGIT_PAIRS[r1 + 1]!;
  return p + 7;
}

/** Decimal digits of a non-negative safe integer. */
export function digits(x: number): number {
  // A comparison ladder: the common cases (ids and sequences below 10^9) never divide.
  if (x < 100_000) return x < 10 ? 1 : x < 100 ? 2 : x < 1000 ? 3 : x < 10_000 ? 4 : 5;
  if (x < 1_000_000_000) return x < 1_000_000 ? 6 : x < 10_000_000 ? 7 : x < 100_000_000 ? 8 : 9;
  let d = 1;
  while (x >= 10) {
    x = Math.floor(x / 10);
    d++;
  }
  return d;
}

export function writeDigits(b: Uint8Array, p: number, x: number, d: number): number {
  if (x < 0x80000000) {
    for (let k = d - 1; k >= 0; k--) {
      const q = (x / 10) | 0;
      b[p + k] = 0x30 + x - q * 10;
      x = q;
    }
  } else {
    for (let k = d - 1; k >= 0; k--) {
      const q = Math.floor(x / 10);
      b[p + k] = 0x30 + x - q * 10;
      x = q;
    }
  }
  return p + d;
}

/** Decimal of a millisecond timestamp (up to 2^53): split in 8-digit halves so each is 32-bit integer math. */
export function writeBigDigits(b: Uint8Array, p: number, x: number): number {
  if (x < 1e8) return writeDigits(b, p, x, digits(x));
  const hi = Math.floor(x / 1e8);
  const lo = x - hi * 1e8;
  p = writeDigits(b, p, hi, digits(hi));
  return writeDigits(b, p, lo, 8);
}

/**
 * Cents as the JSON number JSON.stringify(cents / 100) gives: "12.34", "12.5", "12" (shortest form, so the bytes
 * equal encodeJson's, and JSON.parse returns exactly cents / 100).
 */
export function writeRevenue(b: Uint8Array, p: number, cents: number): number {
  const units = Math.floor(cents / 100);
  const frac = cents - units * 100;
  p = writeDigits(b, p, units, digits(units));
  if (frac === 0) return p;
  b[p++] = 0x2e;
  b[p++] = 0x30 + ((frac / 10) | 0);
  if (frac % 10 !== 0) b[p++] = 0x30 + (frac % 10);
  return p;
}

/** Avro long: zigzag then base-128 varint, low groups first. Exact for every safe integer. */
export function writeLong(b: Uint8Array, p: number, v: number): number {
  let n = v >= 0 ? v * 2 : -v * 2 - 1;
  if (n < 0x10000000) {
    while (n >= 0x80) {
      b[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    b[p++] = n;
    return p;
  }
  // Above 2^28 the value no longer fits 32-bit int math: peel the low 28 bits, then loop on the (smaller) rest.
  // Division by a power of two is exact in doubles, and much cheaper than `%` (an fmod call).
  let hi = Math.floor(n / 0x10000000);
  const lo = n - hi * 0x10000000;
  b[p++] = (lo & 0x7f) | 0x80;
  b[p++] = ((lo >>> 7) & 0x7f) | 0x80;
  b[p++] = ((lo >>> 14) & 0x7f) | 0x80;
  b[p++] = ((lo >>> 21) & 0x7f) | 0x80;
  // hi < 2^25 for every safe integer, so 32-bit shifts are exact from here.
  while (hi >= 0x80) {
    b[p++] = (hi & 0x7f) | 0x80;
    hi >>>= 7;
  }
  b[p++] = hi;
  return p;
}
