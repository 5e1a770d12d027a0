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
 * The Avro and JSON writers are hand-written for the fixed record layout (no per-event objects, strings or
 * Buffer.from): avsc's `toBuffer` allocates per call and tops out near 1M events/s. `bulk.test.ts` proves the bytes
 * equal avsc's `toBuffer` (Avro) and `encodeJson` (JSON) for every version. Performance notes and measurements:
 * docs/generators.md.
 */
import { CHANNELS, CURRENCIES, DEVICES, EVENT_TYPES, type Event, eventId, userId } from './event.ts';
import {
  CONVERSION,
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
}

const BULK_KEYS = ['seed', 'format', 'schemaId'] as const;

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

/** Most draws one event consumes (see model.ts `D`): a fresh pick that starts a burst and is a v3 conversion. */
const MAX_DRAWS_PER_EVENT = 14;
const RAND_CAP = FILL_CHUNK * MAX_DRAWS_PER_EVENT + MAX_DRAWS_PER_EVENT;
const DRAW_RANGE = 0x80000000;
const REVENUE_SHIFT = 19; // model.ts: 31 - REVENUE_TABLE_BITS
const REVENUE_FRAC = 1 << REVENUE_SHIFT;

class Bulk implements BulkGenerator {
  position = 0;
  private readonly rng: Sfc32;
  private readonly state: TrafficState;
  private buf: Buffer = Buffer.alloc(0);
  private bytes: Uint8Array = new Uint8Array(0);
  private bounds = new Uint32Array(1);
  private sentAt = new Float64Array(0);
  private userIdx = new Uint32Array(0);
  private userSeqs = new Uint32Array(0);
  // Draws come in blocks from sfc32 (same stream as Sfc32.u32, so eventAt replays through model.step).
  private readonly rand = new Int32Array(RAND_CAP);
  private rpos = 0;
  private rend = 0;
  // One chunk of drawn fields (struct of arrays): the model pass writes them, the encoding pass reads them.
  private readonly cType = new Uint8Array(FILL_CHUNK);
  private readonly cChannel = new Uint8Array(FILL_CHUNK);
  private readonly cCampaign = new Uint16Array(FILL_CHUNK);
  private readonly cRevenue = new Float64Array(FILL_CHUNK);
  private readonly cCurrency = new Int8Array(FILL_CHUNK);
  private readonly cDevice = new Uint8Array(FILL_CHUNK);
  private readonly cConsent = new Uint8Array(FILL_CHUNK);
  private readonly cEventTime = new Float64Array(FILL_CHUNK);
  // Scratch for writing doubles: a Float64Array aliased as bytes (little-endian on every platform Node runs on).
  private readonly f64 = new Float64Array(1);
  private readonly f64b = new Uint8Array(this.f64.buffer);
  private readonly producerPrefix: Uint8Array;
  private readonly campaignBytes: Uint8Array;
  /** The producer seq of the next record as ASCII digits, right-aligned in 16 bytes (an odometer: +1 per record). */
  private readonly seqAscii = new Uint8Array(16).fill(0x30);
  private seqDigits = 1;

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
      if (this.format === 'avro') p = this.fillAvro(i, end, p);
      else {
        this.draw(i, end);
        p = this.encodeJson(i, end, p);
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

  /**
   * The model pass: model.ts `step`, specialised for sfc32 draws from a block (same draws in the same order, so
   * the same stream; `eventAt` replays it through `step` and the tests compare). Writes the chunk's field arrays,
   * plus user index and user_seq per record of the batch.
   */
  /** Makes sure the draw block holds enough for `events` events (the unused rest moves to the front, in order). */
  private refill(events: number): void {
    if (this.rend - this.rpos >= events * MAX_DRAWS_PER_EVENT) return;
    this.rand.copyWithin(0, this.rpos, this.rend);
    this.rend -= this.rpos;
    this.rpos = 0;
    this.rng.fill(this.rand, this.rend, RAND_CAP - this.rend);
    this.rend = RAND_CAP;
  }

  private draw(start: number, end: number): void {
    this.refill(end - start);
    const r = this.rand;
    let k = this.rpos;
    const m = this.model;
    const st = this.state;
    const seqOf = st.userSeq;
    const users = m.users;
    const heavyUsers = m.heavyUsers;
    const heavyCut = m.heavyCut;
    const burstCut = m.burstCut;
    const burstSpan = m.maxBurst - 1;
    const typeCum = m.typeCum;
    const channelCum = m.channelCum;
    const currencyCum = m.currencyCum;
    const deviceCum = m.deviceCum;
    const q = m.revenueQuantiles;
    const campaigns = m.campaigns;
    const version = m.schemaVersion;
    const analyticsCut = m.analyticsCut;
    const adsCut = m.adsCut;
    const lateCut = m.lateCut;
    const lateMin = m.lateMinMs;
    const lateSpan = m.lateMaxMs - m.lateMinMs + 1;
    const jitterSpan = m.maxJitterMs + 1;
    const userIdx = this.userIdx;
    const userSeqs = this.userSeqs;
    const sentAt = this.sentAt;
    const cType = this.cType;
    const cChannel = this.cChannel;
    const cCampaign = this.cCampaign;
    const cRevenue = this.cRevenue;
    const cCurrency = this.cCurrency;
    const cDevice = this.cDevice;
    const cConsent = this.cConsent;
    const cEventTime = this.cEventTime;
    let burstUser = st.burstUser;
    let burstLeft = st.burstLeft;
    for (let i = start; i < end; i++) {
      const j = i - start;
      let user: number;
      if (burstLeft > 0) {
        user = burstUser;
        burstLeft--;
      } else {
        const heavy = r[k++]! >>> 1 >= heavyCut;
        user = Math.floor(((r[k++]! >>> 1) * (heavy ? heavyUsers : users)) / DRAW_RANGE);
        if (r[k++]! >>> 1 >= burstCut) {
          burstUser = user;
          burstLeft = 1 + Math.floor(((r[k++]! >>> 1) * burstSpan) / DRAW_RANGE);
        }
      }
      userIdx[i] = user;
      const us = seqOf[user]!;
      userSeqs[i] = us;
      seqOf[user] = us + 1;
      let u = r[k++]! >>> 1;
      let type = 0;
      while (u >= typeCum[type]!) type++;
      cType[j] = type;
      u = r[k++]! >>> 1;
      let channel = 0;
      while (u >= channelCum[channel]!) channel++;
      cChannel[j] = channel;
      cCampaign[j] = Math.floor(((r[k++]! >>> 1) * campaigns) / DRAW_RANGE);
      if (type === CONVERSION) {
        u = r[k++]! >>> 1;
        const lo = q[u >>> REVENUE_SHIFT]!;
        cRevenue[j] = Math.round(lo + ((q[(u >>> REVENUE_SHIFT) + 1]! - lo) * (u & (REVENUE_FRAC - 1))) / REVENUE_FRAC);
        u = r[k++]! >>> 1;
        let currency = 0;
        while (u >= currencyCum[currency]!) currency++;
        cCurrency[j] = currency;
      } else {
        cRevenue[j] = -1;
        cCurrency[j] = -1;
      }
      if (version >= 2) {
        u = r[k++]! >>> 1;
        let device = 0;
        while (u >= deviceCum[device]!) device++;
        cDevice[j] = device;
      }
      if (version >= 3) {
        const analytics = r[k++]! >>> 1 < analyticsCut ? 2 : 0;
        cConsent[j] = analytics | (r[k++]! >>> 1 < adsCut ? 1 : 0);
      }
      const sent = sentAt[i]!;
      cEventTime[j] =
        r[k++]! >>> 1 >= lateCut
          ? sent - lateMin - Math.floor(((r[k++]! >>> 1) * lateSpan) / DRAW_RANGE)
          : sent - Math.floor(((r[k++]! >>> 1) * jitterSpan) / DRAW_RANGE);
    }
    st.burstUser = burstUser;
    st.burstLeft = burstLeft;
    st.index += end - start;
    this.rpos = k;
  }

  /** Advances the seq odometer by one (the next record's producer seq). */
  private bumpSeq(): void {
    const a = this.seqAscii;
    let k = 15;
    while (a[k] === 0x39) a[k--] = 0x30;
    a[k]!++;
    if (16 - k > this.seqDigits) this.seqDigits = 16 - k;
  }

  /** Resets the odometer to `seq` (once per batch; records within a batch only bump it). */
  private setSeq(seq: number): void {
    const d = digits(seq);
    this.seqAscii.fill(0x30);
    writeDigits(this.seqAscii, 16 - d, seq, d);
    this.seqDigits = d;
  }

  /**
   * Avro, fused: the model pass of `draw` and the Avro writer in one loop, the fields in locals (no chunk arrays), the
   * category tables in local thresholds. The hot path of the load driver: keep it free of calls into other modules.
   */
  private fillAvro(start: number, end: number, p0: number): number {
    this.refill(end - start);
    const r = this.rand;
    let k = this.rpos;
    const m = this.model;
    const st = this.state;
    const seqOf = st.userSeq;
    const users = m.users;
    const heavyUsers = m.heavyUsers;
    const heavyCut = m.heavyCut;
    const burstCut = m.burstCut;
    const burstSpan = m.maxBurst - 1;
    // Category thresholds as locals: a comparison chain instead of a table walk (the last bound, 2^31, is implied).
    const [t0 = 0, t1 = 0] = m.typeCum;
    const [c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0] = m.channelCum;
    const [d0 = 0, d1 = 0, d2 = 0] = m.deviceCum;
    const currencyCum = m.currencyCum;
    const q = m.revenueQuantiles;
    const campaigns = m.campaigns;
    const version = m.schemaVersion;
    const versionByte = version << 1;
    const analyticsCut = m.analyticsCut;
    const adsCut = m.adsCut;
    const lateCut = m.lateCut;
    const lateMin = m.lateMinMs;
    const lateSpan = m.lateMaxMs - m.lateMinMs + 1;
    const jitterSpan = m.maxJitterMs + 1;
    const userIdx = this.userIdx;
    const userSeqs = this.userSeqs;
    const sentAt = this.sentAt;
    const b = this.bytes;
    const bounds = this.bounds;
    const prefix = this.producerPrefix;
    const prefixLen = prefix.length;
    const camp = this.campaignBytes;
    const id = this.schemaId;
    const h1 = id >>> 24;
    const h2 = (id >>> 16) & 0xff;
    const h3 = (id >>> 8) & 0xff;
    const h4 = id & 0xff;
    const seqAscii = this.seqAscii;
    this.setSeq(this.position + start);
    let sd = this.seqDigits;
    const f64 = this.f64;
    const fb = this.f64b;
    let burstUser = st.burstUser;
    let burstLeft = st.burstLeft;
    let p = p0;
    for (let i = start; i < end; i++) {
      // --- the model (same draws, same order as model.ts step) ---
      let user: number;
      if (burstLeft > 0) {
        user = burstUser;
        burstLeft--;
      } else {
        const heavy = r[k++]! >>> 1 >= heavyCut;
        user = Math.floor(((r[k++]! >>> 1) * (heavy ? heavyUsers : users)) / DRAW_RANGE);
        if (r[k++]! >>> 1 >= burstCut) {
          burstUser = user;
          burstLeft = 1 + Math.floor(((r[k++]! >>> 1) * burstSpan) / DRAW_RANGE);
        }
      }
      userIdx[i] = user;
      const us = seqOf[user]!;
      userSeqs[i] = us;
      seqOf[user] = us + 1;
      // Categories without branches: (u - t) >>> 31 is 1 when u < t (the difference is negative), else 0. Type,
      // channel, device and consent are unpredictable, and mispredicted branches cost more than these subtractions.
      let u = r[k++]! >>> 1;
      const type = 2 - ((u - t0) >>> 31) - ((u - t1) >>> 31);
      u = r[k++]! >>> 1;
      const channel =
        5 - ((u - c0) >>> 31) - ((u - c1) >>> 31) - ((u - c2) >>> 31) - ((u - c3) >>> 31) - ((u - c4) >>> 31);
      const campaign = Math.floor(((r[k++]! >>> 1) * campaigns) / DRAW_RANGE);
      let cents = -1;
      let currency = 0;
      if (type === CONVERSION) {
        u = r[k++]! >>> 1;
        const lo = q[u >>> REVENUE_SHIFT]!;
        cents = Math.round(lo + ((q[(u >>> REVENUE_SHIFT) + 1]! - lo) * (u & (REVENUE_FRAC - 1))) / REVENUE_FRAC);
        u = r[k++]! >>> 1;
        while (u >= currencyCum[currency]!) currency++;
      }
      let device = 0;
      if (version >= 2) {
        u = r[k++]! >>> 1;
        device = 3 - ((u - d0) >>> 31) - ((u - d1) >>> 31) - ((u - d2) >>> 31);
      }
      let consent = 0;
      if (version >= 3) {
        consent = (((r[k++]! >>> 1) - analyticsCut) >>> 31) << 1;
        consent |= ((r[k++]! >>> 1) - adsCut) >>> 31;
      }
      const sent = sentAt[i]!;
      const eventTime =
        r[k++]! >>> 1 >= lateCut
          ? sent - lateMin - Math.floor(((r[k++]! >>> 1) * lateSpan) / DRAW_RANGE)
          : sent - Math.floor(((r[k++]! >>> 1) * jitterSpan) / DRAW_RANGE);

      // --- the record ---
      // key: "u" + 7 digits
      bounds[2 * i] = p;
      const keyAt = p;
      p = writeUserDigits(b, p, user);
      bounds[2 * i + 1] = p;
      // Confluent header
      b[p] = 0;
      b[p + 1] = h1;
      b[p + 2] = h2;
      b[p + 3] = h3;
      b[p + 4] = h4;
      p += 5;
      // event_id: length, producer prefix, seq digits (then the odometer moves on)
      b[p++] = (prefixLen + sd) << 1;
      for (let x = 0; x < prefixLen; x++) b[p++] = prefix[x]!;
      for (let x = 16 - sd; x < 16; x++) b[p++] = seqAscii[x]!;
      let x = 15;
      while (seqAscii[x] === 0x39) seqAscii[x--] = 0x30;
      seqAscii[x]!++;
      if (16 - x > sd) sd = 16 - x;
      // user_id: length 8, then the key's bytes again
      b[p] = 16;
      b[p + 1] = b[keyAt]!;
      b[p + 2] = b[keyAt + 1]!;
      b[p + 3] = b[keyAt + 2]!;
      b[p + 4] = b[keyAt + 3]!;
      b[p + 5] = b[keyAt + 4]!;
      b[p + 6] = b[keyAt + 5]!;
      b[p + 7] = b[keyAt + 6]!;
      b[p + 8] = b[keyAt + 7]!;
      p += 9;
      if (us < 64) b[p++] = us << 1;
      else p = writeLong(b, p, us);
      b[p] = type << 1;
      b[p + 1] = channel << 1;
      b[p + 2] = 16; // campaign: "cmp-" + 4 digits
      b[p + 3] = 0x63;
      b[p + 4] = 0x6d;
      b[p + 5] = 0x70;
      b[p + 6] = 0x2d;
      const c4x = campaign * 4;
      b[p + 7] = camp[c4x]!;
      b[p + 8] = camp[c4x + 1]!;
      b[p + 9] = camp[c4x + 2]!;
      b[p + 10] = camp[c4x + 3]!;
      p += 11;
      p = writeTime(b, p, eventTime);
      p = writeTime(b, p, sent);
      if (cents < 0) {
        b[p] = 0; // revenue: null branch
        b[p + 1] = 0; // currency: null branch
        p += 2;
      } else {
        b[p++] = 2; // revenue: double branch
        f64[0] = cents / 100;
        b[p] = fb[0]!;
        b[p + 1] = fb[1]!;
        b[p + 2] = fb[2]!;
        b[p + 3] = fb[3]!;
        b[p + 4] = fb[4]!;
        b[p + 5] = fb[5]!;
        b[p + 6] = fb[6]!;
        b[p + 7] = fb[7]!;
        b[p + 8] = 2; // currency: string branch
        p += 9;
        const cur = AVRO_CURRENCY[currency]!;
        b[p] = cur[0]!;
        b[p + 1] = cur[1]!;
        b[p + 2] = cur[2]!;
        b[p + 3] = cur[3]!;
        p += 4;
      }
      b[p++] = versionByte;
      if (version >= 2) b[p++] = device << 1;
      if (version >= 3) {
        b[p] = consent >> 1;
        b[p + 1] = consent & 1;
        p += 2;
      }
    }
    st.burstUser = burstUser;
    st.burstLeft = burstLeft;
    st.index += end - start;
    this.rpos = k;
    this.seqDigits = sd;
    return p;
  }

  private encodeJson(start: number, end: number, p0: number): number {
    const b = this.bytes;
    const bounds = this.bounds;
    const sentAt = this.sentAt;
    const userIdx = this.userIdx;
    const userSeqs = this.userSeqs;
    const prefix = this.producerPrefix;
    const camp = this.campaignBytes;
    const version = this.model.schemaVersion;
    const seqAscii = this.seqAscii;
    const cType = this.cType;
    const cChannel = this.cChannel;
    const cCampaign = this.cCampaign;
    const cRevenue = this.cRevenue;
    const cCurrency = this.cCurrency;
    const cDevice = this.cDevice;
    const cConsent = this.cConsent;
    const cEventTime = this.cEventTime;
    this.setSeq(this.position + start);
    let p = p0;
    for (let i = start; i < end; i++) {
      const j = i - start;
      const user = userIdx[i]!;
      bounds[2 * i] = p;
      const keyAt = p;
      p = writeUserDigits(b, p, user);
      bounds[2 * i + 1] = p;
      p = copy(b, p, J_EVENT_ID);
      p = copy(b, p, prefix);
      const sd = this.seqDigits;
      for (let x = 16 - sd; x < 16; x++) b[p++] = seqAscii[x]!;
      this.bumpSeq();
      p = copy(b, p, J_USER_ID);
      for (let x = 1; x < 8; x++) b[p++] = b[keyAt + x]!;
      p = copy(b, p, J_USER_SEQ);
      const us = userSeqs[i]!;
      p = writeDigits(b, p, us, digits(us));
      p = copy(b, p, J_TYPE[cType[j]!]!);
      p = copy(b, p, J_CHANNEL[cChannel[j]!]!);
      const c4 = cCampaign[j]! * 4;
      b[p++] = camp[c4]!;
      b[p++] = camp[c4 + 1]!;
      b[p++] = camp[c4 + 2]!;
      b[p++] = camp[c4 + 3]!;
      p = copy(b, p, J_EVENT_TIME);
      p = writeBigDigits(b, p, cEventTime[j]!);
      p = copy(b, p, J_SENT_AT);
      p = writeBigDigits(b, p, sentAt[i]!);
      p = copy(b, p, J_REVENUE);
      const cents = cRevenue[j]!;
      if (cents < 0) {
        p = copy(b, p, J_NULL_CURRENCY);
      } else {
        p = writeRevenue(b, p, cents);
        p = copy(b, p, J_CURRENCY[cCurrency[j]!]!);
      }
      b[p++] = 0x30 + version;
      if (version >= 2) p = copy(b, p, J_DEVICE[cDevice[j]!]!);
      if (version >= 3) p = copy(b, p, J_CONSENT[cConsent[j]!]!);
      else b[p++] = 0x7d; // }
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

/**
 * A millisecond timestamp as an Avro long: writeLong specialised for values in [2^27, 2^52), 5 to 8 bytes (every
 * time since 1974 and before year 142 000). Other values take the general path.
 */
function writeTime(b: Uint8Array, p: number, v: number): number {
  if (!(v >= 0x8000000 && v < 0x10000000000000)) return writeLong(b, p, v);
  const n = v * 2;
  let hi = Math.floor(n / 0x10000000);
  const lo = n - hi * 0x10000000;
  b[p] = (lo & 0x7f) | 0x80;
  b[p + 1] = ((lo >>> 7) & 0x7f) | 0x80;
  b[p + 2] = ((lo >>> 14) & 0x7f) | 0x80;
  b[p + 3] = ((lo >>> 21) & 0x7f) | 0x80;
  if (hi >= 0x80 && hi < 0x4000) {
    // 2^35 <= 2v < 2^42: every time between 1971 and 2109, 6 bytes
    b[p + 4] = (hi & 0x7f) | 0x80;
    b[p + 5] = hi >>> 7;
    return p + 6;
  }
  p += 4;
  while (hi >= 0x80) {
    b[p++] = (hi & 0x7f) | 0x80;
    hi >>>= 7;
  }
  b[p++] = hi;
  return p;
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

/** "00".."99": two digits per division. */
const DIGIT_PAIRS = ascii(Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0')).join(''));

function writeSevenDigits(b: Uint8Array, p: number, x: number): number {
  const q1 = (x / 100) | 0;
  const r1 = (x - q1 * 100) * 2;
  const q2 = (q1 / 100) | 0;
  const r2 = (q1 - q2 * 100) * 2;
  const q3 = (q2 / 100) | 0;
  const r3 = (q2 - q3 * 100) * 2;
  b[p] = 0x30 + q3;
  b[p + 1] = DIGIT_PAIRS[r3]!;
  b[p + 2] = DIGIT_PAIRS[r3 + 1]!;
  b[p + 3] = DIGIT_PAIRS[r2]!;
  b[p + 4] = DIGIT_PAIRS[r2 + 1]!;
  b[p + 5] = DIGIT_PAIRS[r1]!;
  b[p + 6] = DIGIT_PAIRS[r1 + 1]!;
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
