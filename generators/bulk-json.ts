/**
 * The bulk generator's JSON records (canonical JSON, the reference collector's input): `drawFields` runs the traffic
 * model over a chunk (model.ts `step`, specialised: the same draws in the same order) into the generator's field
 * arrays, `encodeJson` writes them. `bulk.test.ts` proves the bytes equal `encodeJson` of schemas.ts for every version.
 */
import type { Bulk } from './bulk.ts';
import { ascii, copy, digits, writeBigDigits, writeDigits, writeRevenue, writeUserDigits } from './bulk-bytes.ts';
import { CHANNELS, CURRENCIES, DEVICES, EVENT_TYPES } from './event.ts';

// Module-local, unexported copies of model.ts's CONVERSION and DRAW_RANGE and revenue.ts's REVENUE_SHIFT (a
// difference would fail bulk.test.ts's comparison with model.ts `step`): V8 folds a module's own constants into the
// hot loop, but loads an imported or exported binding at run time (measured: 4% of the Avro fill).
const CONVERSION = 2;
const DRAW_RANGE = 0x80000000;
const REVENUE_SHIFT = 19;
const REVENUE_FRAC = 1 << REVENUE_SHIFT;

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

/**
 * The model pass: model.ts `step`, specialised for sfc32 draws from a block (same draws in the same order, so
 * the same stream; `eventAt` replays it through `step` and the tests compare). Writes the chunk's field arrays,
 * plus user index and user_seq per record of the batch.
 */
export function drawFields(g: Bulk, start: number, end: number): void {
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
  const userIdx = g.userIdx;
  const userSeqs = g.userSeqs;
  const sentAt = g.sentAt;
  const cType = g.cType;
  const cChannel = g.cChannel;
  const cCampaign = g.cCampaign;
  const cRevenue = g.cRevenue;
  const cCurrency = g.cCurrency;
  const cDevice = g.cDevice;
  const cConsent = g.cConsent;
  const cEventTime = g.cEventTime;
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
  g.rpos = k;
}

/** Writes the chunk [start, end) drawn by `drawFields` as JSON records from byte `p0`; returns the end. */
export function encodeJson(g: Bulk, start: number, end: number, p0: number): number {
  const b = g.bytes;
  const bounds = g.bounds;
  const sentAt = g.sentAt;
  const userIdx = g.userIdx;
  const userSeqs = g.userSeqs;
  const prefix = g.producerPrefix;
  const camp = g.campaignBytes;
  const version = g.model.schemaVersion;
  const seqAscii = g.seqAscii;
  const cType = g.cType;
  const cChannel = g.cChannel;
  const cCampaign = g.cCampaign;
  const cRevenue = g.cRevenue;
  const cCurrency = g.cCurrency;
  const cDevice = g.cDevice;
  const cConsent = g.cConsent;
  const cEventTime = g.cEventTime;
  g.setSeq(g.position + start);
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
    const sd = g.seqDigits;
    for (let x = 16 - sd; x < 16; x++) b[p++] = seqAscii[x]!;
    g.bumpSeq();
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
