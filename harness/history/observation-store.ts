/**
 * ObservationStore: what the harness read from the output topic, at two bits per event.
 *
 * Model: per producer, `once` (seen at least once) and `twice` (seen at least twice) SeqBitsets over `seq`, plus
 * an exact total for the rare events seen three times or more (`counts`, keyed by event id). Together they give the
 * exact number of sightings of every event while a healthy run pays two bits per event and an empty map.
 *
 * Records whose id is not a well-formed `${producer}-${seq}` (or whose seq is above `maxSeq`, which would make a
 * bitset allocate memory for a garbage number) cannot live in a bitset; they are kept as `unexpectedIds` (the
 * first `maxUnexpectedIds` of them) and counted in `unexpectedIdCount`. Records whose value could not be decoded
 * are counted in `undecodableCount` with the first `maxUndecodableExamples` kept as examples.
 *
 * Merging two stores gives exactly the store of both sets of sightings; capped lists keep the first examples in
 * (this, other) order, so merging a run's first half with its second half equals recording the whole run.
 */

import { StreamproofError } from '../util/errors.ts';
import { formatEventId } from './record.ts';
import { SeqBitset, type SeqBitsetJson } from './seq-bitset.ts';

export interface UndecodableExample {
  readonly partition: number;
  readonly offset: number;
  readonly time: number;
  readonly key: string | undefined;
  /** Base64 of (a prefix of) the bytes. */
  readonly raw: string | undefined;
  readonly decodeError: string | undefined;
}

export interface ObservationStoreOptions {
  /** Highest seq kept in a bitset; above it an id is treated as unexpected. Default 2^27 - 1 (16 MiB per bitset). */
  readonly maxSeq?: number;
  /** Unexpected (unparseable) ids kept verbatim. Default 1000. */
  readonly maxUnexpectedIds?: number;
  /** Undecodable records kept as examples. Default 100. */
  readonly maxUndecodableExamples?: number;
}

export const DEFAULT_OBSERVATION_OPTIONS: Required<ObservationStoreOptions> = {
  maxSeq: 2 ** 27 - 1,
  maxUnexpectedIds: 1000,
  maxUndecodableExamples: 100,
};

export interface ProducerSightings {
  /** Seen at least once. */
  readonly once: SeqBitset;
  /** Seen at least twice. */
  readonly twice: SeqBitset;
}

export interface ObservationStoreJson {
  readonly options: Required<ObservationStoreOptions>;
  readonly producers: ReadonlyArray<{
    readonly producer: number;
    readonly once: SeqBitsetJson;
    readonly twice: SeqBitsetJson;
  }>;
  /** Event id -> total sightings, only for events seen 3+ times. */
  readonly counts: Readonly<Record<string, number>>;
  readonly unexpectedIds: readonly string[];
  readonly unexpectedIdCount: number;
  readonly undecodableExamples: readonly UndecodableExample[];
  readonly undecodableCount: number;
}

export class ObservationStore {
  readonly options: Required<ObservationStoreOptions>;
  readonly #byProducer = new Map<number, ProducerSightings>();
  readonly #counts = new Map<string, number>();
  readonly #unexpectedIds: string[] = [];
  #unexpectedIdCount = 0;
  readonly #undecodable: UndecodableExample[] = [];
  #undecodableCount = 0;

  constructor(options: ObservationStoreOptions = {}) {
    this.options = resolveOptions(options, 'observations.options');
  }

  /** True when (producer, seq) can be kept in the bitsets; otherwise record it with `observeUnexpectedId`. */
  accepts(seq: number): boolean {
    return seq <= this.options.maxSeq;
  }

  /** Records one sighting; returns the number of sightings of this event so far, this one included. */
  observe(producer: number, seq: number): number {
    const p = this.#producer(producer);
    if (p.once.set(seq)) return 1;
    if (p.twice.set(seq)) return 2;
    const id = formatEventId(producer, seq);
    const n = (this.#counts.get(id) ?? 2) + 1;
    this.#counts.set(id, n);
    return n;
  }

  /** Sightings of one event so far. */
  sightings(producer: number, seq: number): number {
    const p = this.#byProducer.get(producer);
    if (p === undefined || !p.once.get(seq)) return 0;
    if (!p.twice.get(seq)) return 1;
    return this.#counts.get(formatEventId(producer, seq)) ?? 2;
  }

  /** An id that is not `${producer}-${seq}` within limits: it was never offered by this harness. */
  observeUnexpectedId(eventId: string): void {
    this.#unexpectedIdCount++;
    if (this.#unexpectedIds.length < this.options.maxUnexpectedIds) this.#unexpectedIds.push(eventId);
  }

  observeUndecodable(example: UndecodableExample): void {
    this.#undecodableCount++;
    if (this.#undecodable.length < this.options.maxUndecodableExamples) this.#undecodable.push(example);
  }

  producers(): number[] {
    return [...this.#byProducer.keys()].sort((a, b) => a - b);
  }

  get(producer: number): ProducerSightings | undefined {
    return this.#byProducer.get(producer);
  }

  /** Event id -> total sightings, for events seen 3+ times (events seen exactly twice are `twice` bits). */
  get counts(): ReadonlyMap<string, number> {
    return this.#counts;
  }

  get unexpectedIds(): readonly string[] {
    return this.#unexpectedIds;
  }

  get unexpectedIdCount(): number {
    return this.#unexpectedIdCount;
  }

  get undecodableExamples(): readonly UndecodableExample[] {
    return this.#undecodable;
  }

  get undecodableCount(): number {
    return this.#undecodableCount;
  }

  get byteLength(): number {
    let n = 0;
    for (const p of this.#byProducer.values()) n += p.once.byteLength + p.twice.byteLength;
    return n;
  }

  /** In-place: afterwards this holds the sightings of both stores. */
  merge(other: ObservationStore): this {
    // Exact totals are needed for every event whose merged count reaches 3. Compute them from both stores'
    // pre-merge state before any bitset changes.
    const totals = new Map<string, number>();
    for (const [producer, theirs] of other.#byProducer) {
      const mine = this.#byProducer.get(producer);
      if (mine === undefined) continue;
      const n = Math.max(mine.once.wordCount, theirs.once.wordCount);
      for (let i = 0; i < n; i++) {
        let w = (mine.twice.word(i) & theirs.once.word(i)) | (mine.once.word(i) & theirs.twice.word(i));
        while (w !== 0) {
          const low = w & -w;
          const seq = (i << 5) + (31 - Math.clz32(low));
          totals.set(formatEventId(producer, seq), this.sightings(producer, seq) + other.sightings(producer, seq));
          w ^= low;
        }
      }
    }
    for (const id of other.#counts.keys()) if (!totals.has(id)) totals.set(id, this.#countOf(id) + other.#countOf(id));
    for (const id of this.#counts.keys()) if (!totals.has(id)) totals.set(id, this.#countOf(id) + other.#countOf(id));

    for (const [producer, theirs] of other.#byProducer) {
      const mine = this.#producer(producer);
      const bothOnce = mine.once.and(theirs.once);
      mine.twice.merge(theirs.twice).merge(bothOnce);
      mine.once.merge(theirs.once);
    }
    for (const [id, n] of totals) this.#counts.set(id, n);

    this.#unexpectedIdCount += other.#unexpectedIdCount;
    for (const id of other.#unexpectedIds) {
      if (this.#unexpectedIds.length >= this.options.maxUnexpectedIds) break;
      this.#unexpectedIds.push(id);
    }
    this.#undecodableCount += other.#undecodableCount;
    for (const e of other.#undecodable) {
      if (this.#undecodable.length >= this.options.maxUndecodableExamples) break;
      this.#undecodable.push(e);
    }
    return this;
  }

  toJSON(): ObservationStoreJson {
    return {
      options: this.options,
      producers: this.producers().map((producer) => {
        const p = this.#byProducer.get(producer)!;
        return { producer, once: p.once.toJSON(), twice: p.twice.toJSON() };
      }),
      counts: Object.fromEntries([...this.#counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      unexpectedIds: [...this.#unexpectedIds],
      unexpectedIdCount: this.#unexpectedIdCount,
      undecodableExamples: [...this.#undecodable],
      undecodableCount: this.#undecodableCount,
    };
  }

  static fromJSON(json: unknown, path = 'observations'): ObservationStore {
    if (typeof json !== 'object' || json === null) {
      throw StreamproofError.at('HISTORY_INVALID_JSON', 'expected an object', { path });
    }
    const j = json as Record<string, unknown>;
    const store = new ObservationStore(resolveOptions(j.options ?? {}, `${path}.options`));
    if (!Array.isArray(j.producers)) {
      throw StreamproofError.at('HISTORY_INVALID_JSON', 'expected an array', { path: `${path}.producers` });
    }
    j.producers.forEach((entry: unknown, i: number) => {
      const at = `${path}.producers[${i}]`;
      const e = entry as Record<string, unknown> | null;
      const producer = e?.producer;
      if (typeof producer !== 'number' || !Number.isInteger(producer) || producer < 0) {
        throw StreamproofError.at('HISTORY_INVALID_JSON', 'expected producer: non-negative integer', { path: at });
      }
      const once = SeqBitset.fromJSON(e?.once, `${at}.once`);
      const twice = SeqBitset.fromJSON(e?.twice, `${at}.twice`);
      store.#byProducer.set(producer, { once, twice });
    });
    if (typeof j.counts !== 'object' || j.counts === null) {
      throw StreamproofError.at('HISTORY_INVALID_JSON', 'expected an object', { path: `${path}.counts` });
    }
    for (const [id, n] of Object.entries(j.counts)) {
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 3) {
        throw StreamproofError.at('HISTORY_INVALID_JSON', 'expected an integer >= 3', { path: `${path}.counts.${id}` });
      }
      store.#counts.set(id, n);
    }
    store.#unexpectedIds.push(...stringArray(j.unexpectedIds, `${path}.unexpectedIds`));
    store.#unexpectedIdCount = count(j.unexpectedIdCount, `${path}.unexpectedIdCount`);
    if (!Array.isArray(j.undecodableExamples)) {
      throw StreamproofError.at('HISTORY_INVALID_JSON', 'expected an array', { path: `${path}.undecodableExamples` });
    }
    store.#undecodable.push(...(j.undecodableExamples as UndecodableExample[]));
    store.#undecodableCount = count(j.undecodableCount, `${path}.undecodableCount`);
    return store;
  }

  #countOf(id: string): number {
    const n = this.#counts.get(id);
    if (n !== undefined) return n;
    const dash = id.indexOf('-');
    return this.sightings(Number(id.slice(0, dash)), Number(id.slice(dash + 1)));
  }

  #producer(producer: number): ProducerSightings {
    let p = this.#byProducer.get(producer);
    if (p === undefined) {
      p = { once: new SeqBitset(), twice: new SeqBitset() };
      this.#byProducer.set(producer, p);
    }
    return p;
  }
}

function resolveOptions(options: unknown, path: string): Required<ObservationStoreOptions> {
  const o = (options ?? {}) as Record<string, unknown>;
  const out = { ...DEFAULT_OBSERVATION_OPTIONS };
  for (const key of Object.keys(DEFAULT_OBSERVATION_OPTIONS) as (keyof ObservationStoreOptions)[]) {
    const v = o[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw StreamproofError.at('HISTORY_INVALID_JSON', 'expected a non-negative integer', { path: `${path}.${key}` });
    }
    out[key] = v;
  }
  return out;
}

function stringArray(v: unknown, path: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw StreamproofError.at('HISTORY_INVALID_JSON', 'expected an array of strings', { path });
  }
  return v as string[];
}

function count(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw StreamproofError.at('HISTORY_INVALID_JSON', 'expected a non-negative integer', { path });
  }
  return v;
}
