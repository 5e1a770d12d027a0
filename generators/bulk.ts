/**
 * The bulk generator: the traffic model of `model.ts`, driven by sfc32 from a seed, writing pre-encoded Kafka records
 * (key bytes + value bytes) into one reused buffer. It is what the load driver offers at millions of events/s.
 *
 * Model: exactly the arbitraries' distribution: the hot loops are `model.ts` `step` specialised by hand (draws from
 * sfc32 in blocks, in the same order as `step` consumes them), so a seed's stream is the one `step` gives, and
 * `eventAt` replays it through `step` itself; the tests compare every record's bytes with avsc's encoding of `step`'s
 * event. One producer per generator, the producer's seq = the record's index from 0; `sent_at` follows the model's
 * send schedule (`schedule.ts`: one rate, or ramp/steady/spike stages). A batch is a *view*: `buffer` and the
 * per-record arrays are reused by the next `nextBatch` call, so a caller that keeps records must copy them (kafkajs
 * and @platformatic/kafka copy into their own request buffers anyway).
 *
 * Record i of a batch: key   = buffer[bounds[2i]   .. bounds[2i+1])  (user_id in ASCII, 8 bytes)
 *                      value = buffer[bounds[2i+1] .. bounds[2i+2])  (Confluent-framed Avro, or canonical JSON)
 *
 * The Avro and JSON writers (bulk-avro.ts, bulk-json.ts, on the byte writers of bulk-bytes.ts) are hand-written for
 * the fixed record layout (no per-event objects, strings or Buffer.from): avsc's `toBuffer` allocates per call and tops out near 1M events/s. `bulk.test.ts` proves the bytes
 * equal avsc's `toBuffer` (Avro) and `encodeJson` (JSON) for every version. Performance notes and measurements:
 * docs/generators.md.
 */
import { type BadEvents, type BadEventsOptions, resolveBadEvents } from './bad-slots.ts';
import { fillAvro } from './bulk-avro.ts';
import { ascii, digits, writeDigits } from './bulk-bytes.ts';
import { drawFields, encodeJson } from './bulk-json.ts';
import { type Event, eventId, type SchemaVersion, userId } from './event.ts';
import {
  EventFields,
  resolveTrafficModel,
  step,
  TRAFFIC_MODEL_KEYS,
  type TrafficModel,
  type TrafficModelOptions,
  TrafficState,
  toEvent,
} from './model.ts';
import { checkKeys, intOption, oneOfOption } from './options.ts';
import { Sfc32 } from './prng.ts';
import { decodeAvro, decodeConfluent, decodeJson } from './schemas.ts';

export type BulkFormat = 'avro' | 'json';

export interface BulkGeneratorOptions extends TrafficModelOptions {
  /** PRNG seed, any safe integer. Default 1. Print it on failure: the same seed replays the same records. */
  seed?: number;
  /** Value encoding. Default 'avro' (Confluent-framed). */
  format?: BulkFormat;
  /** Registry schema id written in the Confluent header (avro only). Default 1. */
  schemaId?: number;
  /**
   * Bad events mixed into the load (bad-slots.ts): the generator only carries them, the load's event sources put them
   * in (the batches themselves stay good). Without `kinds`, Kafka's default kinds.
   */
  bad?: BadEventsOptions | BadEvents;
}

const BULK_KEYS = ['seed', 'format', 'schemaId', 'bad'] as const;

/** Upper bounds of one record's bytes; the buffer is sized from them so the hot loop never checks capacity. */
const KEY_BYTES = 8;
const MAX_AVRO_VALUE = 160;
const MAX_JSON_VALUE = 420;
const FILL_CHUNK = 512;

export interface BulkBatch {
  /** Records in this batch. */
  readonly count: number;
  /** Generator index (= producer seq) of record 0. */
  readonly firstIndex: number;
  /** Bytes of all records; reused by the next nextBatch(). */
  readonly buffer: Buffer;
  /** 2 * count + 1 offsets: key of i is [bounds[2i], bounds[2i+1]), value is [bounds[2i+1], bounds[2i+2]). */
  readonly bounds: Uint32Array;
  /** Intended send time of each record, ms epoch (open model); non-decreasing. */
  readonly sentAt: Float64Array;
  /** Producer id of every record (the `P` of event_id `P-seq`). Record i has seq firstIndex + i. */
  readonly producerId: number;
  /** User index of each record (user_id is "u" + 7 digits of it; also the key). */
  readonly userIndices: Uint32Array;
  /** user_seq of each record. */
  readonly userSeqs: Uint32Array;
  /** Key of record i (a view, no copy). */
  key(i: number): Buffer;
  /** Value of record i (a view, no copy). */
  value(i: number): Buffer;
  /** Record i decoded back into an event (slow path, for tests and reports). */
  event(i: number): Event;
  /** Producer seq of record i (= firstIndex + i). */
  seq(i: number): number;
  /** User index of record i (no allocation). */
  userIndex(i: number): number;
  /** user_seq of record i (no allocation). */
  userSeq(i: number): number;
  /** user_id of record i, e.g. "u0000042" (allocates a string). */
  userId(i: number): string;
  /** event_id of record i, e.g. "7-12345" (allocates a string). */
  eventId(i: number): string;
}

export interface BulkGenerator {
  readonly seed: number;
  readonly format: BulkFormat;
  readonly schemaId: number;
  readonly producerId: number;
  readonly model: TrafficModel;
  /** The bad events the load mixes in, when any. */
  readonly bad: BadEvents | undefined;
  /** Index of the next record (records generated so far). */
  readonly position: number;
  /** Generates the next n records (n >= 1). The returned view is valid until the next call. */
  nextBatch(n: number): BulkBatch;
  /** The event at generator index `index`, by replaying the stream from the seed (O(index), no encoding). */
  eventAt(index: number): Event;
  /** From the next record on: records of `version`, framed with `schemaId` (a live schema upgrade). */
  switchSchema(version: SchemaVersion, schemaId: number): void;
}

export function createBulkGenerator(options: BulkGeneratorOptions = {}): BulkGenerator {
  const path = 'bulk';
  checkKeys(path, options, [...BULK_KEYS, ...TRAFFIC_MODEL_KEYS]);
  const { seed: seedOpt, format: formatOpt, schemaId: schemaIdOpt, bad: badOpt, ...modelOptions } = options;
  const seed = intOption(`${path}.seed`, seedOpt, 1, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const format = oneOfOption<BulkFormat>(`${path}.format`, formatOpt, 'avro', ['avro', 'json']);
  const schemaId = intOption(`${path}.schemaId`, schemaIdOpt, 1, 0, 0xffffffff);
  const model = resolveTrafficModel(path, modelOptions, { users: 100_000 });
  // Resolved again when already resolved (a worker's plan): validation is the same, defaults do not apply twice.
  const bad = badOpt === undefined ? undefined : resolveBadEvents(badOpt, `${path}.bad`);
  const gen = new Bulk(seed, format, schemaId, model);
  gen.bad = bad;
  return gen;
}

/** Most draws one event consumes (see model.ts `D`): a fresh pick that starts a burst and is a v3 conversion. */
const MAX_DRAWS_PER_EVENT = 14;
const RAND_CAP = FILL_CHUNK * MAX_DRAWS_PER_EVENT + MAX_DRAWS_PER_EVENT;

/** The generator and its working state (read and written by the encoders of bulk-avro.ts and bulk-json.ts). */
export class Bulk implements BulkGenerator {
  position = 0;
  bad: BadEvents | undefined;
  readonly rng: Sfc32;
  readonly state: TrafficState;
  buf: Buffer = Buffer.alloc(0);
  bytes: Uint8Array = new Uint8Array(0);
  bounds = new Uint32Array(1);
  sentAt = new Float64Array(0);
  userIdx = new Uint32Array(0);
  userSeqs = new Uint32Array(0);
  // Draws come in blocks from sfc32 (same stream as Sfc32.u32, so eventAt replays through model.step).
  readonly rand = new Int32Array(RAND_CAP);
  rpos = 0;
  rend = 0;
  // One chunk of drawn fields (struct of arrays): the model pass writes them, the encoding pass reads them.
  readonly cType = new Uint8Array(FILL_CHUNK);
  readonly cChannel = new Uint8Array(FILL_CHUNK);
  readonly cCampaign = new Uint16Array(FILL_CHUNK);
  readonly cRevenue = new Float64Array(FILL_CHUNK);
  readonly cCurrency = new Int8Array(FILL_CHUNK);
  readonly cDevice = new Uint8Array(FILL_CHUNK);
  readonly cConsent = new Uint8Array(FILL_CHUNK);
  readonly cEventTime = new Float64Array(FILL_CHUNK);
  // Scratch for writing doubles: a Float64Array aliased as bytes (little-endian on every platform Node runs on).
  readonly f64 = new Float64Array(1);
  readonly f64b = new Uint8Array(this.f64.buffer);
  readonly producerPrefix: Uint8Array;
  readonly campaignBytes: Uint8Array;
  /** The producer seq of the next record as ASCII digits, right-aligned in 16 bytes (an odometer: +1 per record). */
  readonly seqAscii = new Uint8Array(16).fill(0x30);
  seqDigits = 1;

  constructor(
    readonly seed: number,
    readonly format: BulkFormat,
    /** Changed only by `switchSchema`. */
    public schemaId: number,
    public model: TrafficModel,
  ) {
    this.rng = new Sfc32(seed);
    this.state = new TrafficState(model.users);
    this.producerPrefix = ascii(`${model.producerId}-`);
    // Campaign names are "cmp-" + 4 digits (campaigns <= 10_000): 4 digit bytes per campaign, in one table.
    this.campaignBytes = new Uint8Array(model.campaigns * 4);
    for (let c = 0; c < model.campaigns; c++) this.campaignBytes.set(ascii(String(c).padStart(4, '0')), c * 4);
  }

  get producerId(): number {
    return this.model.producerId;
  }

  nextBatch(n: number): BulkBatch {
    if (!Number.isSafeInteger(n) || n < 1 || n > 16_777_216) {
      throw new RangeError(`nextBatch: n must be an integer in [1, 16777216], got ${n}`);
    }
    const maxValue = this.format === 'avro' ? MAX_AVRO_VALUE : MAX_JSON_VALUE;
    const need = n * (KEY_BYTES + maxValue);
    if (this.buf.length < need) {
      this.buf = Buffer.allocUnsafe(need);
      // The writers index a plain Uint8Array over the same memory: element stores on Buffer (a Uint8Array subclass)
      // measured slower in V8 than on a base Uint8Array.
      this.bytes = new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    }
    if (this.bounds.length < 2 * n + 1) this.bounds = new Uint32Array(2 * n + 1);
    if (this.sentAt.length < n) {
      this.sentAt = new Float64Array(n);
      this.userIdx = new Uint32Array(n);
      this.userSeqs = new Uint32Array(n);
    }
    const firstIndex = this.position;
    // Checked before anything moves: a finite schedule (last stage at rate 0) has no send time past its end.
    this.model.schedule.fill(this.sentAt, 0, firstIndex, n);
    // Fill in chunks: a call per chunk lets V8 optimise the fill functions as whole functions. One long loop is only
    // ever optimised on-stack (OSR), and V8 kept re-entering a cached OSR version that deoptimised on the same rare
    // branch every batch (measured: 114 deopts in 3 s, and half the throughput).
    let p = 0;
    for (let i = 0; i < n; i += FILL_CHUNK) {
      const end = Math.min(n, i + FILL_CHUNK);
      if (this.format === 'avro') p = fillAvro(this, i, end, p);
      else {
        drawFields(this, i, end);
        p = encodeJson(this, i, end, p);
      }
    }
    this.bounds[2 * n] = p;
    this.position += n;
    return new BatchView(
      this,
      n,
      firstIndex,
      this.buf,
      this.bounds,
      this.sentAt,
      this.userIdx,
      this.userSeqs,
      this.model.producerId,
    );
  }

  /**
   * A live schema upgrade: the records generated from now on are of `version`, framed with `schemaId` (Avro). The
   * stream goes on (same users and user_seq counters, same send schedule); only the draws of the version's own fields
   * (device, consent) start or stop here. `eventAt` replays the stream at the version it started with.
   */
  switchSchema(version: SchemaVersion, schemaId: number): void {
    const { stages, ratePerSec, ...rest } = this.model.options;
    this.model = resolveTrafficModel(
      'bulk',
      { ...rest, schemaVersion: version, ...(stages === undefined ? { ratePerSec } : { stages: [...stages] }) },
      { users: this.model.users },
    );
    this.schemaId = intOption('bulk.schemaId', schemaId, 1, 0, 0xffffffff);
  }

  eventAt(index: number): Event {
    if (!Number.isSafeInteger(index) || index < 0)
      throw new RangeError(`eventAt: index must be a non-negative integer, got ${index}`);
    const rng = new Sfc32(this.seed);
    const state = new TrafficState(this.model.users);
    const f = new EventFields();
    for (let i = 0; i <= index; i++) step(this.model, state, rng, f);
    return toEvent(this.model, f);
  }

  decode(value: Buffer): Event {
    if (this.format === 'json') return decodeJson(value, this.model.schemaVersion);
    return decodeAvro(decodeConfluent(value).body, this.model.schemaVersion);
  }

  /** Makes sure the draw block holds enough for `events` events (the unused rest moves to the front, in order). */
  refill(events: number): void {
    if (this.rend - this.rpos >= events * MAX_DRAWS_PER_EVENT) return;
    this.rand.copyWithin(0, this.rpos, this.rend);
    this.rend -= this.rpos;
    this.rpos = 0;
    this.rng.fill(this.rand, this.rend, RAND_CAP - this.rend);
    this.rend = RAND_CAP;
  }

  /** Advances the seq odometer by one (the next record's producer seq). */
  bumpSeq(): void {
    const a = this.seqAscii;
    let k = 15;
    while (a[k] === 0x39) a[k--] = 0x30;
    a[k]!++;
    if (16 - k > this.seqDigits) this.seqDigits = 16 - k;
  }

  /** Resets the odometer to `seq` (once per batch; records within a batch only bump it). */
  setSeq(seq: number): void {
    const d = digits(seq);
    this.seqAscii.fill(0x30);
    writeDigits(this.seqAscii, 16 - d, seq, d);
    this.seqDigits = d;
  }
}

class BatchView implements BulkBatch {
  constructor(
    private readonly gen: Bulk,
    readonly count: number,
    readonly firstIndex: number,
    readonly buffer: Buffer,
    readonly bounds: Uint32Array,
    readonly sentAt: Float64Array,
    readonly userIndices: Uint32Array,
    readonly userSeqs: Uint32Array,
    readonly producerId: number,
  ) {}
  key(i: number): Buffer {
    this.check(i);
    return this.buffer.subarray(this.bounds[2 * i], this.bounds[2 * i + 1]);
  }
  value(i: number): Buffer {
    this.check(i);
    return this.buffer.subarray(this.bounds[2 * i + 1], this.bounds[2 * i + 2]);
  }
  event(i: number): Event {
    return this.gen.decode(this.value(i));
  }
  seq(i: number): number {
    this.check(i);
    return this.firstIndex + i;
  }
  userIndex(i: number): number {
    this.check(i);
    return this.userIndices[i]!;
  }
  userSeq(i: number): number {
    this.check(i);
    return this.userSeqs[i]!;
  }
  userId(i: number): string {
    return userId(this.userIndex(i));
  }
  eventId(i: number): string {
    return eventId(this.producerId, this.seq(i));
  }
  private check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.count)
      throw new RangeError(`record index ${i} outside [0, ${this.count})`);
  }
}
