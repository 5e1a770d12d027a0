/**
 * SeqBitset: one bit per sequence number of one producer, growable.
 *
 * Model: a set of non-negative integers `seq`, dense from 0 (a producer's sequence numbers are 0, 1, 2, ...), so a
 * bitset costs one bit per event where a `Set<string>` of event ids costs ~60 bytes. Words are 32-bit so the
 * checkers can combine whole words (`acked & ~seen`) and count them with a popcount instead of touching bits one
 * by one: that is what makes a 10M-event exactly-once check take milliseconds.
 *
 * `size` is one past the highest bit ever set (0 when empty); reading beyond it yields clear bits. Capacity grows by
 * doubling, so a run that offers N events does O(log N) reallocations.
 *
 * JSON form: `{ size, base64 }`, the base64 of the zlib-deflated little-endian 32-bit words up to `size`
 * (deflate because unknown/failed bitsets are mostly zeros and acked ones mostly ones: both compress to little).
 */

import { deflateSync, inflateSync } from 'node:zlib';
import { StreamproofError } from '../util/errors.ts';

export interface SeqBitsetJson {
  readonly size: number;
  readonly base64: string;
}

/** Bits set in a 32-bit word (Hacker's Delight 5-2). */
export function popcount32(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  v = (v + (v >>> 4)) & 0x0f0f0f0f;
  return Math.imul(v, 0x01010101) >>> 24;
}

export class SeqBitset {
  #words: Uint32Array;
  #size = 0;

  constructor(initialCapacityBits = 0) {
    this.#words = new Uint32Array(Math.ceil(Math.max(0, initialCapacityBits) / 32));
  }

  /** One past the highest bit ever set. */
  get size(): number {
    return this.#size;
  }

  /** Number of 32-bit words covering `size`. */
  get wordCount(): number {
    return (this.#size + 31) >>> 5;
  }

  /**
   * The live words covering `size` (a view, not a copy) for word-at-a-time checkers. Bits at or beyond `size`
   * in the last word are always clear. Do not write through it.
   */
  words(): Uint32Array {
    return this.#words.subarray(0, this.wordCount);
  }

  /** Word `i`, or 0 beyond the end: lets checkers walk two bitsets of different sizes together. */
  word(i: number): number {
    return i < this.#words.length ? this.#words[i]! : 0;
  }

  /** Sets bit `seq`; returns true when it was clear before. */
  set(seq: number): boolean {
    const w = seq >>> 5;
    if (w >= this.#words.length) this.#grow(w + 1);
    const mask = 1 << (seq & 31);
    const before = this.#words[w]!;
    if ((before & mask) !== 0) return false;
    this.#words[w] = before | mask;
    if (seq >= this.#size) this.#size = seq + 1;
    return true;
  }

  get(seq: number): boolean {
    const w = seq >>> 5;
    return w < this.#words.length && (this.#words[w]! & (1 << (seq & 31))) !== 0;
  }

  /** Clears bit `seq` (`size` is kept: it records the highest bit ever set, which merges rely on). */
  clear(seq: number): void {
    const w = seq >>> 5;
    if (w < this.#words.length) this.#words[w] = this.#words[w]! & ~(1 << (seq & 31));
  }

  count(): number {
    let n = 0;
    const words = this.#words;
    const end = this.wordCount;
    for (let i = 0; i < end; i++) n += popcount32(words[i]!);
    return n;
  }

  /** Set bits in ascending order. */
  *setBits(): Generator<number> {
    const words = this.#words;
    const end = this.wordCount;
    for (let i = 0; i < end; i++) {
      let w = words[i]!;
      while (w !== 0) {
        const low = w & -w;
        yield (i << 5) + (31 - Math.clz32(low));
        w ^= low;
      }
    }
  }

  /** Clear bits below `limit` (default `size`) in ascending order. */
  *clearBits(limit: number = this.#size): Generator<number> {
    const words = this.#words;
    for (let i = 0; i << 5 < limit; i++) {
      let w = ~(i < words.length ? words[i]! : 0);
      const remaining = limit - (i << 5);
      if (remaining < 32) w &= (1 << remaining) - 1;
      while (w !== 0) {
        const low = w & -w;
        yield (i << 5) + (31 - Math.clz32(low));
        w ^= low;
      }
    }
  }

  /** In-place union with `other`; returns this. */
  merge(other: SeqBitset): this {
    const theirs = other.#words;
    const n = other.wordCount;
    if (n > this.#words.length) this.#grow(n);
    const mine = this.#words;
    for (let i = 0; i < n; i++) mine[i] = mine[i]! | theirs[i]!;
    if (other.#size > this.#size) this.#size = other.#size;
    return this;
  }

  /** In-place `this &= ~other`; returns this. */
  subtract(other: SeqBitset): this {
    const mine = this.#words;
    const n = Math.min(this.wordCount, other.wordCount);
    for (let i = 0; i < n; i++) mine[i] = mine[i]! & ~other.#words[i]!;
    return this;
  }

  /** New bitset `this & other`. */
  and(other: SeqBitset): SeqBitset {
    const out = new SeqBitset();
    const n = Math.min(this.wordCount, other.wordCount);
    out.#words = new Uint32Array(n);
    for (let i = 0; i < n; i++) out.#words[i] = this.#words[i]! & other.#words[i]!;
    out.#size = out.#highestSetBit() + 1;
    return out;
  }

  clone(): SeqBitset {
    const out = new SeqBitset();
    out.#words = this.#words.slice(0, Math.max(this.wordCount, 1));
    out.#size = this.#size;
    return out;
  }

  /** Same bits set (capacity and trailing clears ignored). */
  equals(other: SeqBitset): boolean {
    const n = Math.max(this.wordCount, other.wordCount);
    for (let i = 0; i < n; i++) if (this.word(i) !== other.word(i)) return false;
    return true;
  }

  /** Bytes held by the words array. */
  get byteLength(): number {
    return this.#words.byteLength;
  }

  toJSON(): SeqBitsetJson {
    const n = this.wordCount;
    const bytes = Buffer.alloc(n * 4);
    // Explicit little-endian so a file written on one machine reads the same everywhere.
    for (let i = 0; i < n; i++) bytes.writeUInt32LE(this.#words[i]!, i * 4);
    return { size: this.#size, base64: deflateSync(bytes).toString('base64') };
  }

  static fromJSON(json: unknown, path = 'bitset'): SeqBitset {
    if (typeof json !== 'object' || json === null) {
      throw StreamproofError.at('HISTORY_INVALID_JSON', 'expected { size, base64 }', { path });
    }
    const { size, base64 } = json as Record<string, unknown>;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || typeof base64 !== 'string') {
      throw StreamproofError.at('HISTORY_INVALID_JSON', 'expected { size: non-negative integer, base64: string }', {
        path,
      });
    }
    let bytes: Buffer;
    try {
      bytes = inflateSync(Buffer.from(base64, 'base64'));
    } catch (cause) {
      throw StreamproofError.at('HISTORY_INVALID_JSON', 'base64 is not a deflated bitset', { path, cause });
    }
    const n = (size + 31) >>> 5;
    if (bytes.length !== n * 4) {
      throw StreamproofError.at(
        'HISTORY_INVALID_JSON',
        `expected ${n * 4} bytes for size ${size}, got ${bytes.length}`,
        {
          path,
        },
      );
    }
    const out = new SeqBitset();
    out.#words = new Uint32Array(Math.max(n, 1));
    for (let i = 0; i < n; i++) out.#words[i] = bytes.readUInt32LE(i * 4);
    out.#size = size;
    if (out.#highestSetBit() >= size) {
      throw StreamproofError.at('HISTORY_INVALID_JSON', `a bit is set at or beyond size ${size}`, { path });
    }
    return out;
  }

  /** Builds a bitset from explicit seqs (tests, fixtures). */
  static of(seqs: Iterable<number>): SeqBitset {
    const out = new SeqBitset();
    for (const s of seqs) out.set(s);
    return out;
  }

  #highestSetBit(): number {
    for (let i = this.#words.length - 1; i >= 0; i--) {
      const w = this.#words[i]!;
      if (w !== 0) return (i << 5) + 31 - Math.clz32(w);
    }
    return -1;
  }

  #grow(minWords: number): void {
    const next = new Uint32Array(Math.max(minWords, this.#words.length * 2, 8));
    next.set(this.#words);
    this.#words = next;
  }
}
