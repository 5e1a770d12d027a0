/**
 * LineageTally: what the lineage checker judges beside the history, gathered by the lineage contract after the
 * drain. Per source event (`${producer}-${seq}`): whether it landed in the input topic, how many outputs it must
 * produce, how many outputs named it, whether it is a bad event (never to come out) and whether the pipeline's group
 * committed past its input record. Outputs naming an id outside every known range (never offered, never landed, or
 * not an event id at all) are counted by id apart.
 *
 * Cost: per producer, three byte arrays over seq (flags, expected, seen): 3 bytes per event; counts of 255 and more
 * live in a small map. Arrays grow only for events that landed or were offered (`reserve`): an output naming a huge
 * seq never allocates, it is an odd id.
 */

import { formatEventId, parseEventId } from '../history/index.ts';

/** The event's input record is in the input topic (read back read_committed after the drain). */
export const LANDED = 1;
/** A bad event (malformed or late): it must go to the dead-letter topic, never to the output. */
export const BAD = 2;
/** The SUT group's committed offset of the event's input partition is past its input record. */
export const COMMITTED_PAST = 4;

const SATURATED = 255;

/** A byte per seq, with exact values >= 255 kept in a map. */
class ByteCounts {
  bytes: Uint8Array;
  readonly over = new Map<number, number>();
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }
  get(seq: number): number {
    const b = seq < this.bytes.length ? this.bytes[seq]! : 0;
    return b === SATURATED ? this.over.get(seq)! : b;
  }
  set(seq: number, n: number): void {
    if (n >= SATURATED) {
      this.bytes[seq] = SATURATED;
      this.over.set(seq, n);
    } else {
      this.bytes[seq] = n;
      this.over.delete(seq);
    }
  }
  grow(size: number): void {
    const next = new Uint8Array(size);
    next.set(this.bytes);
    this.bytes = next;
  }
}

interface ProducerTally {
  flags: Uint8Array;
  readonly expected: ByteCounts;
  readonly seen: ByteCounts;
  /** One past the highest seq reserved. */
  size: number;
}

export interface LineageTallyOptions {
  /** Highest seq kept in the arrays (an input naming a higher one is skipped and counted). Default 2^27 - 1. */
  readonly maxSeq?: number;
}

export class LineageTally {
  readonly maxSeq: number;
  readonly #producers = new Map<number, ProducerTally>();
  readonly #odd = new Map<string, number>();
  /** True when the drain completed; undefined until the contract's `finish` ran. */
  drainComplete: boolean | undefined;
  /** Input records read back. */
  inputRecords = 0;
  /** Input records that are not the generator's events (undecodable, or with no usable id). */
  unusableInputs = 0;
  /** Events whose id appears on more than one input record (a producer retry that landed twice). */
  inputDuplicates = 0;
  /** Output records that named a source id (every sighting, fan-out and re-deliveries included). */
  outputs = 0;

  constructor(options: LineageTallyOptions = {}) {
    this.maxSeq = options.maxSeq ?? 2 ** 27 - 1;
  }

  /**
   * Makes seqs [0, size) of `producer` addressable (the offered range), so outputs naming them are counted there.
   * Outputs already counted apart (an output seen before its range was reserved) move into the arrays.
   */
  reserve(producer: number, size: number): void {
    if (size <= 0) return;
    const n = Math.min(size, this.maxSeq + 1);
    let p = this.#producers.get(producer);
    if (p === undefined) {
      p = { flags: new Uint8Array(n), expected: new ByteCounts(n), seen: new ByteCounts(n), size: 0 };
      this.#producers.set(producer, p);
    } else if (n <= p.size) {
      return;
    } else {
      const cap = Math.max(n, Math.min(this.maxSeq + 1, p.flags.length * 2));
      if (cap > p.flags.length) {
        const flags = new Uint8Array(cap);
        flags.set(p.flags);
        p.flags = flags;
        p.expected.grow(cap);
        p.seen.grow(cap);
      }
    }
    const from = p.size;
    p.size = n;
    if (this.#odd.size > 0) this.#adopt(producer, p, from, n);
  }

  /** Moves the odd counts of ids `${producer}-${seq}`, seq in [from, to), into the producer's arrays. */
  #adopt(producer: number, p: ProducerTally, from: number, to: number): void {
    if (to - from <= this.#odd.size) {
      for (let seq = from; seq < to; seq++) {
        const id = formatEventId(producer, seq);
        const n = this.#odd.get(id);
        if (n === undefined) continue;
        p.seen.set(seq, n);
        this.#odd.delete(id);
      }
      return;
    }
    for (const [id, n] of this.#odd) {
      const ref = parseEventId(id);
      if (ref === undefined || ref.producer !== producer || ref.seq < from || ref.seq >= to) continue;
      p.seen.set(ref.seq, n);
      this.#odd.delete(id);
    }
  }

  /**
   * An event in the input topic, with the outputs it must produce (0: filtered) and its flags (BAD,
   * COMMITTED_PAST). Returns false when its id cannot be kept (seq above maxSeq): the caller counts it unusable.
   * Throws a RangeError when `expected` is not a count (a negative or fractional one would corrupt the arrays).
   */
  land(eventId: string, expected: number, flags = 0): boolean {
    if (!Number.isInteger(expected) || expected < 0) {
      throw new RangeError(`LineageTally.land: expected must be a non-negative integer, got ${expected}`);
    }
    const ref = parseEventId(eventId);
    if (ref === undefined || ref.seq > this.maxSeq) return false;
    this.reserve(ref.producer, ref.seq + 1);
    const p = this.#producers.get(ref.producer)!;
    if (p.flags[ref.seq]! & LANDED) this.inputDuplicates++;
    p.flags[ref.seq] = p.flags[ref.seq]! | LANDED | flags;
    p.expected.set(ref.seq, expected);
    return true;
  }

  /** Marks an offered event bad (whether it landed or not). */
  markBad(producer: number, seq: number): void {
    if (seq > this.maxSeq) return;
    this.reserve(producer, seq + 1);
    const p = this.#producers.get(producer)!;
    p.flags[seq] = p.flags[seq]! | BAD;
  }

  /** One output record naming `eventId`; returns the outputs that named it so far, this one included. */
  see(eventId: string): number {
    this.outputs++;
    const ref = parseEventId(eventId);
    const p = ref === undefined ? undefined : this.#producers.get(ref.producer);
    if (ref === undefined || p === undefined || ref.seq >= p.size) {
      const n = (this.#odd.get(eventId) ?? 0) + 1;
      this.#odd.set(eventId, n);
      return n;
    }
    const n = p.seen.get(ref.seq) + 1;
    p.seen.set(ref.seq, n);
    return n;
  }

  producers(): number[] {
    return [...this.#producers.keys()].sort((a, b) => a - b);
  }

  /** One past the highest addressable seq of `producer` (0 when unknown). */
  size(producer: number): number {
    return this.#producers.get(producer)?.size ?? 0;
  }

  flags(producer: number, seq: number): number {
    const p = this.#producers.get(producer);
    return p === undefined || seq >= p.size ? 0 : p.flags[seq]!;
  }

  expected(producer: number, seq: number): number {
    const p = this.#producers.get(producer);
    return p === undefined || seq >= p.size ? 0 : p.expected.get(seq);
  }

  seen(producer: number, seq: number): number {
    const p = this.#producers.get(producer);
    if (p === undefined || seq >= p.size) return this.#odd.get(formatEventId(producer, seq)) ?? 0;
    return p.seen.get(seq);
  }

  /** Outputs naming ids outside every reserved range: id -> outputs, in first-seen order. */
  oddIds(): ReadonlyMap<string, number> {
    return this.#odd;
  }

  /** Bytes held by the per-event arrays. */
  get byteLength(): number {
    let n = 0;
    for (const p of this.#producers.values()) n += p.flags.length * 3;
    return n;
  }
}
