/**
 * The bulk generator: the traffic model of `model.ts`, driven by sfc32 from a seed, writing pre-encoded Kafka records
 * (key bytes + value bytes) into one reused buffer. It is what the load driver offers at millions of events/s.
 *
 * Model: exactly the arbitraries' distribution (same `step` function, only the draw source differs), one producer per
 * generator, the producer's seq = the record's index from 0. A batch is a *view*: `buffer` and the offset arrays are
 * reused by the next `nextBatch` call, so a caller that keeps records must copy them (kafkajs and
 * @platformatic/kafka copy into their own request buffers anyway).
 *
 * Record i of a batch: key   = buffer[bounds[2i]   .. bounds[2i+1])  (user_id in ASCII, 8 bytes)
 *                      value = buffer[bounds[2i+1] .. bounds[2i+2])  (Confluent-framed Avro, or canonical JSON)
 *
 * The Avro and JSON writers are hand-written for the fixed record layout (no per-event objects, strings or
 * Buffer.from): avsc's `toBuffer` allocates per call and tops out near 1M events/s. `bulk.test.ts` proves the bytes
 * equal avsc's `toBuffer` (Avro) and `encodeJson` (JSON) for every version.
 */
import { CHANNELS, CURRENCIES, DEVICES, EVENT_TYPES, type Event } from './event.ts';
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
import { CONFLUENT_HEADER_BYTES, decodeAvro, decodeConfluent, decodeJson, writeConfluentHeader } from './schemas.ts';

export type BulkFormat = 'avro' | 'json';

export interface BulkGeneratorOptions extends TrafficModelOptions {
  /** PRNG seed, any safe integer. Default 1. Print it on failure: the same seed replays the same records. */
  seed?: number;
  /** Value encoding. Default 'avro' (Confluent-framed). */
  format?: BulkFormat;
  /** Registry schema id written in the Confluent header (avro only). Default 1. */
  schemaId?: number;
}

const BULK_KEYS = ['seed', 'format', 'schemaId'] as const;

/** Upper bounds of one record's bytes; the buffer is sized from them so the hot loop never checks capacity. */
const KEY_BYTES = 8;
const MAX_AVRO_VALUE = 160;
const MAX_JSON_VALUE = 420;
const FILL_CHUNK = 1024;

export interface BulkBatch {
  /** Records in this batch. */
  readonly count: number;
  /** Generator index (= producer seq) of record 0. */
  readonly firstIndex: number;
  /** Bytes of all records; reused by the next nextBatch(). */
  readonly buffer: Buffer;
  /** 2 * count + 1 offsets: key of i is [bounds[2i], bounds[2i+1]), value is [bounds[2i+1], bounds[2i+2]). */
  readonly bounds: Uint32Array;
  /** Intended send time of each record, ms epoch (open model). */
  readonly sentAt: Float64Array;
  /** Key of record i (a view, no copy). */
  key(i: number): Buffer;
  /** Value of record i (a view, no copy). */
  value(i: number): Buffer;
  /** Record i decoded back into an event (slow path, for tests and reports). */
  event(i: number): Event;
}

export interface BulkGenerator {
  readonly seed: number;
  readonly format: BulkFormat;
  readonly schemaId: number;
  readonly model: TrafficModel;
  /** Index of the next record (records generated so far). */
  readonly position: number;
  /** Generates the next n records (n >= 1). The returned view is valid until the next call. */
  nextBatch(n: number): BulkBatch;
  /** The event at generator index `index`, by replaying the stream from the seed (O(index), no encoding). */
  eventAt(index: number): Event;
}

export function createBulkGenerator(options: BulkGeneratorOptions = {}): BulkGenerator {
  const path = 'bulk';
  checkKeys(path, options, [...BULK_KEYS, ...TRAFFIC_MODEL_KEYS]);
  const { seed: seedOpt, format: formatOpt, schemaId: schemaIdOpt, ...modelOptions } = options;
  const seed = intOption(`${path}.seed`, seedOpt, 1, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const format = oneOfOption<BulkFormat>(`${path}.format`, formatOpt, 'avro', ['avro', 'json']);
  const schemaId = intOption(`${path}.schemaId`, schemaIdOpt, 1, 0, 0xffffffff);
  const model = resolveTrafficModel(path, modelOptions, { users: 100_000 });
  return new Bulk(seed, format, schemaId, model);
}

function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

// Avro: strings are a zigzag varint length then bytes; enums and union branches are zigzag varint indices.
const AVRO_TYPE_BYTE = EVENT_TYPES.map((_, i) => i * 2);
const AVRO_CURRENCY = CURRENCIES.map((c) => ascii(`\u0006${c}`)); // length 3 -> zigzag 6

// JSON fragments, precomputed once.
const J_EVENT_ID = ascii('{"event_id":"');
const J_USER_ID = ascii('","user_id":"u');
const J_USER_SEQ = ascii('","user_seq":');
const J_TYPE = EVENT_TYPES.map((t) => ascii(`,"type":"${t}","channel":"`));
const J_CHANNEL = CHANNELS.map((c) => ascii(`${c}","campaign":"cmp-`));
const J_EVENT_TIME = ascii('","event_time":');
const J_SENT_AT = ascii(',"sent_at":');
const J_REVENUE = ascii(',"revenue":');
const J_NULL_CURRENCY = ascii('null,"currency":null,"schema_version":');
const J_CURRENCY = CURRENCIES.map((c) => ascii(`,"currency":"${c}","schema_version":`));
const J_DEVICE = DEVICES.map((d) => ascii(`,"device":"${d}"`));
const J_CONSENT = [
  ascii(',"consent":{"analytics":false,"ads":false}}'),
  ascii(',"consent":{"analytics":false,"ads":true}}'),
  ascii(',"consent":{"analytics":true,"ads":false}}'),
  ascii(',"consent":{"analytics":true,"ads":true}}'),
];

class Bulk implements BulkGenerator {
  position = 0;
  private readonly rng: Sfc32;
  private readonly state: TrafficState;
  private readonly fields = new EventFields();
  private buf: Buffer = Buffer.alloc(0);
  private bytes: Uint8Array = new Uint8Array(0);
  private bounds = new Uint32Array(1);
  private sentAt = new Float64Array(0);
  // Scratch for writing doubles: a Float64Array aliased as bytes (little-endian on every platform Node runs on).
  private readonly f64 = new Float64Array(1);
  private readonly f64b = new Uint8Array(this.f64.buffer);
  private readonly producerPrefix: Uint8Array;
  private readonly campaignBytes: Uint8Array;

  constructor(
    readonly seed: number,
    readonly format: BulkFormat,
    readonly schemaId: number,
    readonly model: TrafficModel,
  ) {
    this.rng = new Sfc32(seed);
    this.state = new TrafficState(model.users);
    this.producerPrefix = ascii(`${model.producerId}-`);
    // Campaign names are "cmp-" + 4 digits (campaigns <= 10_000): 4 digit bytes per campaign, in one table.
    this.campaignBytes = new Uint8Array(model.campaigns * 4);
    for (let c = 0; c < model.campaigns; c++) this.campaignBytes.set(ascii(String(c).padStart(4, '0')), c * 4);
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
    if (this.sentAt.length < n) this.sentAt = new Float64Array(n);
    const firstIndex = this.position;
    // Fill in chunks: a call per chunk lets V8 optimise the fill functions as whole functions. One long loop is only
    // ever optimised on-stack (OSR), and V8 kept re-entering a cached OSR version that deoptimised on the same rare
    // branch every batch (measured: 114 deopts in 3 s, and half the throughput).
    let p = 0;
    for (let i = 0; i < n; i += FILL_CHUNK) {
      const end = Math.min(n, i + FILL_CHUNK);
      p = this.format === 'avro' ? this.fillAvro(i, end, p) : this.fillJson(i, end, p);
    }
    this.bounds[2 * n] = p;
    this.position += n;
    return new BatchView(this, n, firstIndex, this.buf, this.bounds, this.sentAt);
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

  private fillAvro(start: number, end: number, p0: number): number {
    const b = this.bytes;
    const bounds = this.bounds;
    const sentAt = this.sentAt;
    const m = this.model;
    const s = this.state;
    const rng = this.rng;
    const f = this.fields;
    const prefix = this.producerPrefix;
    const camp = this.campaignBytes;
    const version = m.schemaVersion;
    const schemaId = this.schemaId;
    let p = p0;
    for (let i = start; i < end; i++) {
      step(m, s, rng, f);
      bounds[2 * i] = p;
      p = writeUserDigits(b, p, f.user);
      bounds[2 * i + 1] = p;
      writeConfluentHeader(b, p, schemaId);
      p += CONFLUENT_HEADER_BYTES;
      // event_id: length, producer prefix, seq digits
      const seqDigits = digits(f.seq);
      b[p++] = (prefix.length + seqDigits) << 1;
      for (let k = 0; k < prefix.length; k++) b[p++] = prefix[k]!;
      p = writeDigits(b, p, f.seq, seqDigits);
      // user_id: length 8, then the same bytes as the key
      b[p++] = 16;
      p = writeUserDigits(b, p, f.user);
      p = writeLong(b, p, f.userSeq);
      b[p++] = AVRO_TYPE_BYTE[f.type]!;
      b[p++] = f.channel << 1;
      b[p++] = 16; // campaign: "cmp-" + 4 digits
      b[p++] = 0x63;
      b[p++] = 0x6d;
      b[p++] = 0x70;
      b[p++] = 0x2d;
      const c4 = f.campaign * 4;
      b[p++] = camp[c4]!;
      b[p++] = camp[c4 + 1]!;
      b[p++] = camp[c4 + 2]!;
      b[p++] = camp[c4 + 3]!;
      p = writeLong(b, p, f.eventTime);
      p = writeLong(b, p, f.sentAt);
      if (f.revenueCents < 0) {
        b[p++] = 0; // revenue: null branch
        b[p++] = 0; // currency: null branch
      } else {
        b[p++] = 2; // revenue: double branch
        this.f64[0] = f.revenueCents / 100;
        const d = this.f64b;
        b[p++] = d[0]!;
        b[p++] = d[1]!;
        b[p++] = d[2]!;
        b[p++] = d[3]!;
        b[p++] = d[4]!;
        b[p++] = d[5]!;
        b[p++] = d[6]!;
        b[p++] = d[7]!;
        b[p++] = 2; // currency: string branch
        const cur = AVRO_CURRENCY[f.currency]!;
        b[p++] = cur[0]!;
        b[p++] = cur[1]!;
        b[p++] = cur[2]!;
        b[p++] = cur[3]!;
      }
      b[p++] = version << 1;
      if (version >= 2) b[p++] = f.device << 1;
      if (version >= 3) {
        b[p++] = f.consentAnalytics ? 1 : 0;
        b[p++] = f.consentAds ? 1 : 0;
      }
      sentAt[i] = f.sentAt;
    }
    return p;
  }

  private fillJson(start: number, end: number, p0: number): number {
    const b = this.bytes;
    const bounds = this.bounds;
    const sentAt = this.sentAt;
    const m = this.model;
    const s = this.state;
    const rng = this.rng;
    const f = this.fields;
    const prefix = this.producerPrefix;
    const camp = this.campaignBytes;
    const version = m.schemaVersion;
    let p = p0;
    for (let i = start; i < end; i++) {
      step(m, s, rng, f);
      bounds[2 * i] = p;
      p = writeUserDigits(b, p, f.user);
      bounds[2 * i + 1] = p;
      p = copy(b, p, J_EVENT_ID);
      p = copy(b, p, prefix);
      p = writeDigits(b, p, f.seq, digits(f.seq));
      p = copy(b, p, J_USER_ID);
      p = writeSevenDigits(b, p, f.user);
      p = copy(b, p, J_USER_SEQ);
      p = writeDigits(b, p, f.userSeq, digits(f.userSeq));
      p = copy(b, p, J_TYPE[f.type]!);
      p = copy(b, p, J_CHANNEL[f.channel]!);
      const c4 = f.campaign * 4;
      b[p++] = camp[c4]!;
      b[p++] = camp[c4 + 1]!;
      b[p++] = camp[c4 + 2]!;
      b[p++] = camp[c4 + 3]!;
      p = copy(b, p, J_EVENT_TIME);
      p = writeBigDigits(b, p, f.eventTime);
      p = copy(b, p, J_SENT_AT);
      p = writeBigDigits(b, p, f.sentAt);
      p = copy(b, p, J_REVENUE);
      if (f.revenueCents < 0) {
        p = copy(b, p, J_NULL_CURRENCY);
      } else {
        p = writeRevenue(b, p, f.revenueCents);
        p = copy(b, p, J_CURRENCY[f.currency]!);
      }
      b[p++] = 0x30 + version;
      if (version >= 2) p = copy(b, p, J_DEVICE[f.device]!);
      if (version >= 3) p = copy(b, p, J_CONSENT[(f.consentAnalytics ? 2 : 0) + (f.consentAds ? 1 : 0)]!);
      else b[p++] = 0x7d; // }
      sentAt[i] = f.sentAt;
    }
    return p;
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
  private check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.count)
      throw new RangeError(`record index ${i} outside [0, ${this.count})`);
  }
}

function copy(b: Uint8Array, p: number, src: Uint8Array): number {
  for (let k = 0; k < src.length; k++) b[p++] = src[k]!;
  return p;
}

/** "u" + 7 zero-padded digits of the user index: the user_id, also the Kafka key. */
function writeUserDigits(b: Uint8Array, p: number, user: number): number {
  b[p] = 0x75;
  return writeSevenDigits(b, p + 1, user);
}

function writeSevenDigits(b: Uint8Array, p: number, x: number): number {
  for (let k = 6; k >= 0; k--) {
    const q = (x / 10) | 0;
    b[p + k] = 0x30 + x - q * 10;
    x = q;
  }
  return p + 7;
}

/** Decimal digits of a non-negative safe integer. */
function digits(x: number): number {
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

function writeDigits(b: Uint8Array, p: number, x: number, d: number): number {
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
function writeBigDigits(b: Uint8Array, p: number, x: number): number {
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
function writeRevenue(b: Uint8Array, p: number, cents: number): number {
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
