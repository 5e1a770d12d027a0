/**
 * The revenue distribution of conversions: log-normal in cents, as a quantile table indexed by the top 12 bits of a
 * 31-bit draw and interpolated by the rest (the bulk generator's hot loops index the table themselves, with the same
 * shift and fraction).
 */

const REVENUE_TABLE_BITS = 12;
export const REVENUE_SHIFT = 31 - REVENUE_TABLE_BITS;
export const REVENUE_FRAC = 1 << REVENUE_SHIFT;

/**
 * Log-normal quantiles in cents at p = i / 4096, interpolated linearly between entries. The tails are cut at
 * p = 1/8192 and 1 - 1/8192 (about 3.7 sigma), which keeps revenue finite and positive.
 */
export function revenueTable(median: number, sigma: number): Float64Array {
  const n = 1 << REVENUE_TABLE_BITS;
  const q = new Float64Array(n + 1);
  for (let i = 0; i <= n; i++) {
    const p = Math.min(Math.max(i / n, 1 / (2 * n)), 1 - 1 / (2 * n));
    q[i] = Math.max(1, median * 100 * Math.exp(sigma * inverseNormal(p)));
  }
  return q;
}

export function revenueCents(u: number, q: Float64Array): number {
  const i = u >>> REVENUE_SHIFT;
  const lo = q[i]!;
  return Math.round(lo + ((q[i + 1]! - lo) * (u & (REVENUE_FRAC - 1))) / REVENUE_FRAC);
}

/** Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9). */
export function inverseNormal(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lowP = 0.02425;
  if (p < lowP) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - lowP) return -inverseNormal(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}
