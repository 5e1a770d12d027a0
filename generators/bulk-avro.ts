/**
 * The bulk generator's Avro records (Confluent-framed), in one fused loop with the traffic model: `fillAvro` draws
 * each event's fields (model.ts `step`, specialised: the same draws in the same order) and writes its key and value.
 * `bulk.test.ts` proves the bytes equal avsc's `toBuffer` for every schema version.
 */
import type { Bulk } from './bulk.ts';
import { ascii, writeLong, writeTime, writeUserDigits } from './bulk-bytes.ts';
import { CURRENCIES } from './event.ts';

// Module-local, unexported copies of model.ts's CONVERSION and DRAW_RANGE and revenue.ts's REVENUE_SHIFT (a
// difference would fail bulk.test.ts's comparison with model.ts `step`): V8 folds a module's own constants into the
// hot loop, but loads an imported or exported binding at run time (measured: 4% of the Avro fill).
const CONVERSION = 2;
const DRAW_RANGE = 0x80000000;
const REVENUE_SHIFT = 19;
const REVENUE_FRAC = 1 << REVENUE_SHIFT;

// Avro: strings are a zigzag varint length then bytes; enums and union branches are zigzag varint indices.
const AVRO_CURRENCY = CURRENCIES.map((c) => ascii(`\u0006${c}`)); // length 3 -> zigzag 6

/**
 * Avro, fused: the model pass of `drawFields` (bulk-json.ts) and the Avro writer in one loop, the fields in locals (no chunk arrays), the
 * category tables in local thresholds. The hot path of the load driver: keep its calls to the small byte writers.
 */
export function fillAvro(g: Bulk, start: number, end: number, p0: number): number {
  g.refill(end - start);
  const r = g.rand;
  let k = g.rpos;
  const m = g.model;
  const st = g.state;
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
  const userIdx = g.userIdx;
  const userSeqs = g.userSeqs;
  const sentAt = g.sentAt;
  const b = g.bytes;
  const bounds = g.bounds;
  const prefix = g.producerPrefix;
  const prefixLen = prefix.length;
  const camp = g.campaignBytes;
  const id = g.schemaId;
  const h1 = id >>> 24;
  const h2 = (id >>> 16) & 0xff;
  const h3 = (id >>> 8) & 0xff;
  const h4 = id & 0xff;
  const seqAscii = g.seqAscii;
  g.setSeq(g.position + start);
  let sd = g.seqDigits;
  const f64 = g.f64;
  const fb = g.f64b;
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
  g.rpos = k;
  g.seqDigits = sd;
  return p;
}
