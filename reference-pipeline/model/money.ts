/**
 * Money arithmetic of the model: revenue is split in integer minor units (cents) with the largest-remainder method,
 * so the revenue credits of one conversion and model sum *exactly* to its revenue, which a double-valued split cannot
 * promise (0.1 + 0.2 !== 0.3). The split is exact over the binary values of the weights (BigInt arithmetic), so it
 * depends on nothing but the weights: no rounding-order or platform drift between the attributor and the checker.
 */

/**
 * `amount` (major units) in integer minor units, rounding half away from zero at the minor unit. The amount is read as
 * the shortest decimal that round-trips (`String(amount)`), i.e. as it was written: `0.285` USD is 29 cents, although
 * the nearest double to 0.285 is just below it. Returns `null` when the result is not a safe integer.
 */
export function toMinorUnits(amount: number, exponent: number): number | null {
  if (!Number.isFinite(amount)) return null;
  const [mantissa = '0', power = '0'] = String(Math.abs(amount)).split('e');
  // Shifting the decimal exponent in the string is exact: "0.285e2" parses to exactly 28.5.
  const scaled = Number(`${mantissa}e${Number(power) + exponent}`);
  const minor = Math.floor(scaled + 0.5);
  if (!Number.isSafeInteger(minor)) return null;
  return amount < 0 && minor !== 0 ? -minor : minor;
}

/** Minor units back to major units: the double nearest to the decimal `minor / 10^exponent`. */
export function fromMinorUnits(minor: number, exponent: number): number {
  // Division by an exact power of ten is correctly rounded, and 10^exponent is exact for the exponents allowed (<= 6).
  return minor / 10 ** exponent + 0;
}

// One scratch view for reading a double's bits; the module is synchronous, so sharing it is safe.
const view = new DataView(new ArrayBuffer(8));

/** `x = mantissa * 2^exponent` exactly, for a finite double x >= 0. */
function decompose(x: number): { mantissa: bigint; exponent: number } {
  view.setFloat64(0, x);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const biased = (high >>> 20) & 0x7ff;
  const fraction = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  if (biased === 0) return { mantissa: fraction, exponent: -1074 };
  return { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}

/**
 * The same split in plain number arithmetic, when every weight is a non-negative integer and `total * sum(weights)`
 * stays below 2^53, so every product, quotient and remainder is exact. That is every model but time-decay, on any
 * realistic revenue, and it avoids BigInt on the attributor's hot path. `null` when it does not apply.
 */
function allocateSmallIntegers(total: number, weights: readonly number[]): number[] | null {
  let sum = 0;
  for (const w of weights) {
    if (!Number.isInteger(w) || w < 0) return null;
    sum += w;
  }
  if (sum === 0 || total * sum > Number.MAX_SAFE_INTEGER) return null;
  // `%` on integers is exact, and (q - r) / sum is an exact integer: no floor of a rounded quotient.
  const remainders = weights.map((w) => (total * w) % sum);
  const parts = weights.map((w, i) => (total * w - (remainders[i] ?? 0)) / sum);
  let left = total - parts.reduce((a, b) => a + b, 0);
  if (left === 0) return parts;
  const order = remainders
    .map((remainder, index) => ({ remainder, index }))
    .sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const { index } of order) {
    if (left === 0) break;
    parts[index] = (parts[index] ?? 0) + 1;
    left -= 1;
  }
  return parts;
}

/**
 * Splits the integer `total` into integer parts proportional to `weights` (finite, >= 0, not all 0) with the
 * largest-remainder (Hamilton) method: every part gets the floor of its exact quota, and the units left over go one
 * each to the largest fractional remainders, ties to the lower index. The parts sum exactly to `total`. A negative
 * total is split as its absolute value, negated, so refund-like amounts mirror positive ones.
 */
export function allocateLargestRemainder(total: number, weights: readonly number[]): number[] {
  if (!Number.isSafeInteger(total)) throw new RangeError(`total must be a safe integer, got ${total}`);
  if (weights.length === 0) throw new RangeError('weights must not be empty');
  if (total < 0) return allocateLargestRemainder(-total, weights).map((part) => (part === 0 ? 0 : -part));
  const fast = allocateSmallIntegers(total, weights);
  if (fast !== null) return fast;
  const parts = weights.map((w) => {
    if (!Number.isFinite(w) || w < 0) throw new RangeError(`weights must be finite and >= 0, got ${w}`);
    return decompose(w);
  });
  // Scale every weight to an integer by the smallest binary exponent among the non-zero ones.
  let minExponent = Number.POSITIVE_INFINITY;
  for (const p of parts) if (p.mantissa !== 0n && p.exponent < minExponent) minExponent = p.exponent;
  if (minExponent === Number.POSITIVE_INFINITY) throw new RangeError('weights must not all be 0');
  const scaled = parts.map((p) => (p.mantissa === 0n ? 0n : p.mantissa << BigInt(p.exponent - minExponent)));
  const sum = scaled.reduce((a, b) => a + b, 0n);
  const whole = BigInt(total);
  const floors = scaled.map((w) => (whole * w) / sum);
  const remainders = scaled.map((w) => (whole * w) % sum);
  let left = whole - floors.reduce((a, b) => a + b, 0n);
  const byRemainder = remainders
    .map((remainder, index) => ({ remainder, index }))
    .sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
  // `left` is below the number of weights (each floor loses less than one unit), so one pass suffices.
  for (const { index } of byRemainder) {
    if (left === 0n) break;
    floors[index] = (floors[index] ?? 0n) + 1n;
    left -= 1n;
  }
  return floors.map(Number);
}
