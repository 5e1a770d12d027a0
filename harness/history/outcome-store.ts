/**
 * OutcomeStore: what the load driver offered and what it learned about each offer, at four bits per event (five
 * with bad events).
 *
 * Model: per producer, four SeqBitsets over `seq`: `offered`, `acked`, `failed`, `unknown`; and `bad` (the offers
 * that carried a bad event, `events.bad`), empty and zero-length unless the load mixed bad events in. Every offer gets one
 * outcome; the store resolves the rare second one deterministically, so recording order and merge order never
 * change the result:
 * - a definite outcome (`acked` or `failed`) replaces `unknown` (a late ack of a timed-out send is knowledge);
 * - `unknown` after a definite outcome is ignored;
 * - `acked` and `failed` for the same send are both kept: that contradiction is a harness or client bug, and the
 *   exactly-once checker reports it (`conflictingOutcomes`) rather than picking a side.
 * An outcome implies its offer, so `resolve` also sets `offered`.
 * Offered events without any outcome (the run stopped first) are counted as `unresolved`.
 */

import { StreamproofError } from '../util/errors.ts';
import type { Outcome } from './record.ts';
import { popcount32, SeqBitset, type SeqBitsetJson } from './seq-bitset.ts';

export interface ProducerOutcomes {
  readonly offered: SeqBitset;
  readonly acked: SeqBitset;
  readonly failed: SeqBitset;
  readonly unknown: SeqBitset;
  /** Offers that carried a bad event. */
  readonly bad: SeqBitset;
}

export interface OutcomeCounts {
  offered: number;
  acked: number;
  failed: number;
  unknown: number;
  /** Offered, no outcome recorded. */
  unresolved: number;
}

export interface OutcomeStoreJson {
  readonly producers: ReadonlyArray<{
    readonly producer: number;
    readonly offered: SeqBitsetJson;
    readonly acked: SeqBitsetJson;
    readonly failed: SeqBitsetJson;
    readonly unknown: SeqBitsetJson;
    /** Absent when the producer offered no bad event (histories written before bad events read as none). */
    readonly bad?: SeqBitsetJson;
  }>;
}

export class OutcomeStore {
  readonly #byProducer = new Map<number, ProducerOutcomes>();

  offer(producer: number, seq: number, bad = false): void {
    const p = this.#producer(producer);
    p.offered.set(seq);
    if (bad) p.bad.set(seq);
  }

  /** True when the offer (producer, seq) carried a bad event. */
  isBad(producer: number, seq: number): boolean {
    return this.#byProducer.get(producer)?.bad.get(seq) ?? false;
  }

  /** The producer's bad-offer words (live; empty when none), for word-by-word checkers. */
  badWords(producer: number): Uint32Array {
    return this.#byProducer.get(producer)?.bad.words() ?? new Uint32Array(0);
  }

  /** Offers that carried a bad event and were acked (accepted by the pipeline's ingest), over every producer. */
  badAckedCount(): number {
    let n = 0;
    for (const p of this.#byProducer.values()) {
      const b = p.bad.words();
      for (let i = 0; i < b.length; i++) n += popcount32(b[i]! & p.acked.word(i));
    }
    return n;
  }

  /** Offers that carried a bad event, over every producer. */
  badCount(): number {
    let n = 0;
    for (const p of this.#byProducer.values()) n += p.bad.count();
    return n;
  }

  /** Records an outcome; returns true when it changed what is known (so callers record each ack latency once). */
  resolve(producer: number, seq: number, outcome: Outcome): boolean {
    const p = this.#producer(producer);
    p.offered.set(seq);
    switch (outcome) {
      case 'acked':
        p.unknown.clear(seq);
        return p.acked.set(seq);
      case 'failed':
        p.unknown.clear(seq);
        return p.failed.set(seq);
      case 'unknown':
        if (p.acked.get(seq) || p.failed.get(seq)) return false;
        return p.unknown.set(seq);
    }
  }

  /** Producers in ascending order. */
  producers(): number[] {
    return [...this.#byProducer.keys()].sort((a, b) => a - b);
  }

  get(producer: number): ProducerOutcomes | undefined {
    return this.#byProducer.get(producer);
  }

  counts(): OutcomeCounts {
    const c: OutcomeCounts = { offered: 0, acked: 0, failed: 0, unknown: 0, unresolved: 0 };
    for (const p of this.#byProducer.values()) {
      c.offered += p.offered.count();
      c.acked += p.acked.count();
      c.failed += p.failed.count();
      c.unknown += p.unknown.count();
      const n = p.offered.wordCount;
      for (let i = 0; i < n; i++) {
        const resolved = p.acked.word(i) | p.failed.word(i) | p.unknown.word(i);
        c.unresolved += popcount32(p.offered.word(i) & ~resolved);
      }
    }
    return c;
  }

  /** In-place union with `other`, then the resolution rules above; equal to recording both runs into one store. */
  merge(other: OutcomeStore): this {
    for (const [producer, theirs] of other.#byProducer) {
      const mine = this.#producer(producer);
      mine.offered.merge(theirs.offered);
      mine.acked.merge(theirs.acked);
      mine.failed.merge(theirs.failed);
      mine.bad.merge(theirs.bad);
      mine.unknown.merge(theirs.unknown).subtract(mine.acked).subtract(mine.failed);
    }
    return this;
  }

  /** Bytes held by all bitsets. */
  get byteLength(): number {
    let n = 0;
    for (const p of this.#byProducer.values()) {
      n += p.offered.byteLength + p.acked.byteLength + p.failed.byteLength + p.unknown.byteLength + p.bad.byteLength;
    }
    return n;
  }

  toJSON(): OutcomeStoreJson {
    return {
      producers: this.producers().map((producer) => {
        const p = this.#byProducer.get(producer)!;
        return {
          producer,
          offered: p.offered.toJSON(),
          acked: p.acked.toJSON(),
          failed: p.failed.toJSON(),
          unknown: p.unknown.toJSON(),
          ...(p.bad.count() > 0 ? { bad: p.bad.toJSON() } : {}),
        };
      }),
    };
  }

  static fromJSON(json: unknown, path = 'outcomes'): OutcomeStore {
    const producers = (json as { producers?: unknown } | null)?.producers;
    if (!Array.isArray(producers)) {
      throw StreamproofError.at('HISTORY_INVALID_JSON', 'expected { producers: [...] }', { path });
    }
    const store = new OutcomeStore();
    producers.forEach((entry: unknown, i: number) => {
      const at = `${path}.producers[${i}]`;
      const e = entry as Record<string, unknown> | null;
      const producer = e?.producer;
      if (typeof producer !== 'number' || !Number.isInteger(producer) || producer < 0) {
        throw StreamproofError.at('HISTORY_INVALID_JSON', 'expected producer: non-negative integer', { path: at });
      }
      if (store.#byProducer.has(producer)) {
        throw StreamproofError.at('HISTORY_INVALID_JSON', `producer ${producer} appears twice`, { path: at });
      }
      store.#byProducer.set(producer, {
        offered: SeqBitset.fromJSON(e?.offered, `${at}.offered`),
        acked: SeqBitset.fromJSON(e?.acked, `${at}.acked`),
        failed: SeqBitset.fromJSON(e?.failed, `${at}.failed`),
        unknown: SeqBitset.fromJSON(e?.unknown, `${at}.unknown`),
        bad: e?.bad === undefined ? new SeqBitset() : SeqBitset.fromJSON(e.bad, `${at}.bad`),
      });
    });
    return store;
  }

  #producer(producer: number): ProducerOutcomes {
    let p = this.#byProducer.get(producer);
    if (p === undefined) {
      p = {
        offered: new SeqBitset(),
        acked: new SeqBitset(),
        failed: new SeqBitset(),
        unknown: new SeqBitset(),
        bad: new SeqBitset(),
      };
      this.#byProducer.set(producer, p);
    }
    return p;
  }
}
