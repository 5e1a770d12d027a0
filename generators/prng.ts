/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Chaotic generator), in 32-bit integer math only: the bulk generator's
 * randomness. It passes PractRand to 2^40+ bytes, has a 2^128 state and costs a handful of integer ops per output,
 * which is what a 5M events/s loop can afford. No global random source is used: every stream replays from its seed.
 */
export class Sfc32 {
  // State in an Int32Array, not four number fields: V8 keeps small integers (Smis) in fields only up to 2^30, so
  // 32-bit state words would be boxed as heap numbers on every store (measured: 4x slower).
  private readonly s = new Int32Array(4);

  /** Any safe integer seed; two different seeds give unrelated streams (the seed is spread with splitmix32). */
  constructor(seed: number) {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 4294967296) >>> 0;
    let s = lo ^ 0x9e3779b9;
    const next = (): number => {
      // splitmix32: turns one seed word into well-mixed state words, so seeds 1 and 2 do not start correlated.
      s = (s + 0x9e3779b9) | 0;
      let z = s ^ hi;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s[0] = next();
    this.s[1] = next();
    this.s[2] = next();
    this.s[3] = 1;
    // The first outputs of sfc32 are weak; the reference implementation discards 12 (we discard 15, as PractRand's).
    for (let i = 0; i < 15; i++) this.u32();
  }

  /** Uniform integer in [0, 2^32). */
  u32(): number {
    const s = this.s;
    const a = s[0]!;
    const b = s[1]!;
    const c = s[2]!;
    const d = s[3]!;
    const t = (((a + b) | 0) + d) | 0;
    s[3] = (d + 1) | 0;
    s[0] = b ^ (b >>> 9);
    s[1] = (c + (c << 3)) | 0;
    s[2] = (((c << 21) | (c >>> 11)) + t) | 0;
    return t >>> 0;
  }

  /**
   * Writes the next `count` outputs of u32() into out[from ..], as int32 bit patterns (`out[i] >>> 0` is the u32()
   * value, `out[i] >>> 1` the u31()): the same stream, with the state in locals for the whole loop (the bulk generator
   * draws in blocks; per-call state loads and stores cost more than the mixing). Int32 because V8 loads int32 elements
   * as small integers, while uint32 elements above 2^31 become doubles.
   */
  fill(out: Int32Array, from: number, count: number): void {
    const s = this.s;
    let a = s[0]!;
    let b = s[1]!;
    let c = s[2]!;
    let d = s[3]!;
    for (let i = from, end = from + count; i < end; i++) {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (((c << 21) | (c >>> 11)) + t) | 0;
      out[i] = t;
    }
    s[0] = a;
    s[1] = b;
    s[2] = c;
    s[3] = d;
  }

  /** Uniform integer in [0, 2^31): the draw width the shared model consumes (fast-check integers are 31-bit too). */
  u31(_slot: number): number {
    return this.u32() >>> 1;
  }
}
