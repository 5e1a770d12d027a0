/**
 * Where the pacing engine's events come from: one bulk generator's stream, in intended-time order, a chunk at a
 * time, each event routed to a lane.
 *
 * - `PartitionSource` (Kafka): every lane runs the *same* stream (same seed, same schedule, the whole rate) with its
 *   own producer id and keeps the events whose key's partition p has `p % lanes === lane` (and, for a load worker,
 *   `p % slice.count === slice.index`): each partition, hence each user, is written by one producer, and the union
 *   of the lanes is exactly the one-producer stream (driver.ts has the model).
 * - `UserSource` (HTTP): one stream for every lane, an event going to lane `userIndex % lanes`, so a user's events
 *   share one connection and arrive in user_seq order.
 */
import { type BadEvents, badEventAt, isBadSlot } from '../../generators/bad-slots.ts';
import type { BulkGenerator } from '../../generators/bulk.ts';
import type { Event, SchemaVersion } from '../../generators/event.ts';
import {
  decodeAvro,
  decodeConfluent,
  decodeJson,
  EVENT_TYPES_AVRO,
  encodeAvro,
  encodeConfluent,
  encodeJson,
} from '../../generators/schemas.ts';
import { partitionForKey } from './murmur2.ts';
import type { OutMessage } from './transport.ts';

const CHUNK = 1024;

/** Generated, not yet offered: parallel arrays read from `head` (one chunk at most). */
export abstract class EventSource<M> {
  msgs: M[] = [];
  sentAt: number[] = [];
  seq: number[] = [];
  userId: string[] = [];
  userSeq: number[] = [];
  /** Engine lane of each event (`fixedLane` < 0 only). */
  lane: number[] = [];
  head = 0;
  exhausted = false;
  /** The generator's producer id: event ids are `${producerId}-${seq}`. */
  readonly producerId: number;
  /** `events.bad`: the ids of kept events that carry a bad record, until offered (the engine marks their offers). */
  readonly badIds = new Set<string>();
  readonly bad: BadEvents | undefined;

  constructor(
    readonly gen: BulkGenerator,
    /** Events due at or after this are past the run: never offered. */
    readonly endTime: number,
    /** The engine lane of every event, or -1 when `lane[i]` says. */
    readonly fixedLane: number,
  ) {
    this.producerId = gen.producerId;
    this.bad = gen.bad !== undefined && gen.bad.threshold > 0 ? gen.bad : undefined;
  }

  /**
   * The value to send for slot `seq` (its good value, a view): the bad record's bytes when the slot is bad (then
   * remembered in `badIds`). Called only when `bad` is set: the fast path never hashes.
   */
  protected valueOf(seq: number, good: Buffer): Buffer {
    const gen = this.gen;
    if (!isBadSlot(this.bad!, gen.seed, this.producerId, seq)) return good;
    const version = gen.model.schemaVersion;
    const event = (
      gen.format === 'json' ? decodeJson(good, version) : decodeAvro(decodeConfluent(good).body, version)
    ) as Event;
    this.badIds.add(`${this.producerId}-${seq}`);
    return badEventAt(this.bad!, gen.seed, this.producerId, seq, { event, version, schemaId: gen.schemaId }).bytes;
  }

  /**
   * A live schema upgrade (docs/schema-upgrade.md): the generator writes `version`, framed with `schemaId`, from its
   * next record on, and the events generated but not yet offered (at most a chunk) are written again in `version`
   * (Avro resolution: a field the old version lacks takes its default), so every event offered from now on is of
   * `version`. Bad records stay as they were made.
   */
  switchSchema(version: SchemaVersion, schemaId: number): void {
    const from = this.gen.model.schemaVersion;
    const fromId = this.gen.schemaId;
    this.gen.switchSchema(version, schemaId);
    if (from === version && (fromId === schemaId || this.gen.format === 'json')) return;
    for (let i = this.head; i < this.msgs.length; i++) {
      if (this.badIds.has(`${this.producerId}-${this.seq[i]}`)) continue;
      this.msgs[i] = this.rewrite(this.msgs[i]!, (v) => rewriteValue(v, this.gen.format, from, version, schemaId));
    }
  }

  /** The message with its value replaced. */
  protected abstract rewrite(m: M, value: (old: Buffer) => Buffer): M;

  /** Generates the next chunk of this source's events. False when the schedule is exhausted. */
  refill(): boolean {
    if (this.exhausted) return false;
    const gen = this.gen;
    if (gen.model.schedule.events - gen.position <= 0) {
      this.exhausted = true;
      return false;
    }
    this.clear();
    while (this.msgs.length === 0) {
      const n = Math.min(CHUNK, gen.model.schedule.events - gen.position);
      if (n <= 0) {
        this.exhausted = true;
        return false;
      }
      const b = gen.nextBatch(n);
      // One copy per chunk: the batch's buffer is reused by the next nextBatch, and the transport reads the bytes later.
      const used = b.bounds[2 * n]!;
      const bytes = Buffer.allocUnsafe(used);
      b.buffer.copy(bytes, 0, 0, used);
      this.keep(bytes, b.bounds, n, b.firstIndex, b.sentAt, b.userSeqs, b.userIndices);
      // Past the end of the run: this was the last chunk (its tail beyond the end is never offered).
      if (b.sentAt[n - 1]! >= this.endTime) {
        this.exhausted = true;
        break;
      }
    }
    return this.msgs.length > 0;
  }

  /** Appends the chunk's events this source keeps. */
  protected abstract keep(
    bytes: Buffer,
    bounds: Uint32Array,
    n: number,
    firstIndex: number,
    sentAt: Float64Array,
    userSeqs: Uint32Array,
    userIndices: Uint32Array,
  ): void;

  clear(): void {
    this.msgs = [];
    this.sentAt = [];
    this.seq = [];
    this.userId = [];
    this.userSeq = [];
    this.lane = [];
    this.head = 0;
  }

  /** Events the (whole, one-producer) schedule holds with sentAt < t (or <= t). */
  scheduledUntil(t: number, inclusive: boolean): number {
    const s = this.gen.model.schedule;
    const before = (i: number) => (inclusive ? s.at(i) <= t : s.at(i) < t);
    let lo = 0;
    let hi = Math.min(s.events, Number.MAX_SAFE_INTEGER);
    if (!Number.isFinite(hi)) {
      hi = 1;
      while (before(hi)) hi *= 2;
    }
    // the first index not before t
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (before(mid)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** An event's value written again in version `to` (Avro: framed with `schemaId`). */
export function rewriteValue(
  value: Buffer,
  format: 'avro' | 'json',
  from: SchemaVersion,
  to: SchemaVersion,
  schemaId: number,
): Buffer {
  const body = format === 'json' ? encodeAvro(from, decodeJson(value, from) as Event) : decodeConfluent(value).body;
  const event = { ...(decodeAvro(body, from, to) as Event), schema_version: to } as Event;
  return format === 'json' ? encodeJson(event) : encodeConfluent(schemaId, EVENT_TYPES_AVRO[to], event);
}

/** A Kafka lane's events: the partitions `p % totalLanes === laneIndex` (and the slice's), for one engine lane. */
export class PartitionSource extends EventSource<OutMessage> {
  constructor(
    gen: BulkGenerator,
    endTime: number,
    engineLane: number,
    readonly topic: string,
    readonly partitions: number,
    /** The lane's number in the whole run (its `p % totalLanes`), and the run's lanes. */
    readonly laneIndex: number,
    readonly totalLanes: number,
    readonly slice: { readonly index: number; readonly count: number } | undefined,
  ) {
    super(gen, endTime, engineLane);
  }

  protected rewrite(m: OutMessage, value: (old: Buffer) => Buffer): OutMessage {
    return { ...m, value: value(m.value) };
  }

  protected keep(
    bytes: Buffer,
    bounds: Uint32Array,
    n: number,
    firstIndex: number,
    sentAt: Float64Array,
    userSeqs: Uint32Array,
  ): void {
    const lanes = this.totalLanes;
    const slice = this.slice;
    const parts = this.partitions;
    const lane = this.laneIndex;
    const topic = this.topic;
    for (let i = 0; i < n; i++) {
      const k0 = bounds[2 * i]!;
      const k1 = bounds[2 * i + 1]!;
      const partition = partitionForKey(bytes, parts, k0, k1);
      if (lanes > 1 && partition % lanes !== lane) continue;
      if (slice !== undefined && partition % slice.count !== slice.index) continue;
      const good = bytes.subarray(k1, bounds[2 * i + 2]!);
      const value = this.bad === undefined ? good : this.valueOf(firstIndex + i, good);
      this.msgs.push({ topic, key: bytes.subarray(k0, k1), value, partition });
      this.sentAt.push(sentAt[i]!);
      this.seq.push(firstIndex + i);
      this.userId.push(bytes.toString('latin1', k0, k1));
      this.userSeq.push(userSeqs[i]!);
    }
  }
}

/** Every event of the stream as its NDJSON line (the value: JSON), to engine lane `userIndex % lanes`. */
export class UserSource extends EventSource<Buffer> {
  constructor(
    gen: BulkGenerator,
    endTime: number,
    readonly lanes: number,
  ) {
    super(gen, endTime, -1);
  }

  protected rewrite(m: Buffer, value: (old: Buffer) => Buffer): Buffer {
    return value(m);
  }

  protected keep(
    bytes: Buffer,
    bounds: Uint32Array,
    n: number,
    firstIndex: number,
    sentAt: Float64Array,
    userSeqs: Uint32Array,
    userIndices: Uint32Array,
  ): void {
    const lanes = this.lanes;
    for (let i = 0; i < n; i++) {
      const good = bytes.subarray(bounds[2 * i + 1]!, bounds[2 * i + 2]!);
      this.msgs.push(this.bad === undefined ? good : this.valueOf(firstIndex + i, good));
      this.sentAt.push(sentAt[i]!);
      this.seq.push(firstIndex + i);
      this.userId.push(bytes.toString('latin1', bounds[2 * i]!, bounds[2 * i + 1]!));
      this.userSeq.push(userSeqs[i]!);
      this.lane.push(userIndices[i]! % lanes);
    }
  }
}
