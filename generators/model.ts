/**
 * The traffic model shared by the fast-check arbitraries and the bulk generator, so both draw from one distribution.
 *
 * Model: events are emitted one at a time. Each emission consumes independent uniform 31-bit *draws*, addressed by a
 * named slot (`D.type`, `D.user`, ...). fast-check supplies a slot vector per event (so shrinking a draw towards 0
 * shrinks towards the simplest event: first user, no burst, an impression on search, on time); the bulk generator
 * supplies sfc32 outputs lazily (it only pays for the slots an event uses). Everything after the draws is one pure
 * function, {@link step}, so the two generators cannot drift apart; the statistical tests check the draws themselves.
 *
 * - users: a few heavy users (`heavyUsers`, the lowest indices) receive `heavyShare` of the picks; the rest uniform.
 * - bursts: with `burstProbability` a pick starts a burst: the same user emits 2..`maxBurst` events back to back.
 * - event types, channels, currencies, devices: categorical with configurable weights.
 * - revenue: log-normal (median `revenueMedian`, log-sd `revenueSigma`), in cents, via a quantile table.
 * - time: `sent_at` advances at `ratePerSec` (open model); `event_time` is `sent_at` minus a uniform jitter in
 *   [0, maxJitterMs] (so event times are out of order with respect to emission), or with `lateProbability` minus a
 *   lateness in [lateMinMs, lateMaxMs] (late events, behind any sane watermark).
 * - ids: `user_seq` counts per user in emission order, `seq` counts per producer: both hold by construction.
 */
import {
  CHANNELS,
  type Channel,
  CURRENCIES,
  DEVICES,
  type Device,
  EVENT_TYPES,
  type Event,
  type EventType,
  eventId,
  MAX_PRODUCER_ID,
  MAX_USERS,
  SCHEMA_VERSIONS,
  type SchemaVersion,
  userId,
} from './event.ts';
import { checkKeys, intOption, oneOfOption, optionError, probabilityOption, weightsOption } from './options.ts';
import { revenueCents, revenueTable } from './revenue.ts';
import { type LoadStage, SendSchedule, stagesOption } from './schedule.ts';

/** Draw slots. A fast-check slot vector has one 31-bit integer per name, in this order. */
export const D = {
  userKind: 0,
  user: 1,
  burst: 2,
  burstLen: 3,
  type: 4,
  channel: 5,
  campaign: 6,
  revenue: 7,
  currency: 8,
  device: 9,
  consentAnalytics: 10,
  consentAds: 11,
  timeKind: 12,
  time: 13,
} as const;
export const DRAWS_PER_EVENT = 14;
/** Draws are uniform in [0, 2^31). */
export const DRAW_RANGE = 0x80000000;

/** Where draws come from: the bulk generator's PRNG ignores the slot; fast-check's vector is indexed by it. */
export interface DrawSource {
  u31(slot: number): number;
}

export interface TrafficModelOptions {
  /** Distinct users, `u0000000`.. Default 1000 for arbitraries, 100_000 for the bulk generator. Max 10_000_000. */
  users?: number;
  /** How many users are heavy (indices 0..heavyUsers-1). Default max(1, round(users / 100)). */
  heavyUsers?: number;
  /** Share of user picks that go to a heavy user. Default 0.3. */
  heavyShare?: number;
  /** Probability that a pick starts a burst of the same user. Default 0.02. */
  burstProbability?: number;
  /** Longest burst, events (>= 2). Default 16. */
  maxBurst?: number;
  /** Distinct campaigns `cmp-0000`... Default 50. */
  campaigns?: number;
  /** Relative weights of event types. Default { impression: 80, click: 17, conversion: 3 }. */
  typeWeights?: Partial<Record<EventType, number>>;
  /** Relative weights of channels. Default { search: 30, social: 25, display: 20, email: 10, affiliate: 8, direct: 7 }. */
  channelWeights?: Partial<Record<Channel, number>>;
  /** Relative weights of devices (v2+). Default { desktop: 35, mobile: 55, tablet: 7, unknown: 3 }. */
  deviceWeights?: Partial<Record<Device, number>>;
  /** Median conversion revenue in currency units. Default 40. */
  revenueMedian?: number;
  /** Log-space standard deviation of revenue. Default 1.1. */
  revenueSigma?: number;
  /** Probability of each consent flag being true (v3). Default { analytics: 0.9, ads: 0.75 }. */
  consentRates?: { analytics?: number; ads?: number };
  /** Schema version of the emitted events. Default 3 (the latest). */
  schemaVersion?: SchemaVersion;
  /** Producer id in event ids, [0, 65535]. Default 0. */
  producerId?: number;
  /** sent_at of the first event, ms epoch. Default 1_700_000_000_000 (a fixed instant, so runs replay). */
  startTime?: number;
  /** Intended send rate, events per second: sent_at of event i is startTime + floor(i * 1000 / ratePerSec). Default 10_000. */
  ratePerSec?: number;
  /**
   * Load stages instead of one rate (ramp, steady, spike): the rate is piecewise linear, see `schedule.ts`. Exclusive
   * with `ratePerSec`. Default none.
   */
  stages?: readonly LoadStage[];
  /** Largest on-time delay between event_time and sent_at, ms. Default 2000. */
  maxJitterMs?: number;
  /** Probability that an event is late. Default 0.001. */
  lateProbability?: number;
  /** Shortest lateness of a late event, ms. Default 15 minutes. */
  lateMinMs?: number;
  /** Longest lateness of a late event, ms. Default 6 hours. */
  lateMaxMs?: number;
}

export const TRAFFIC_MODEL_KEYS = [
  'users',
  'heavyUsers',
  'heavyShare',
  'burstProbability',
  'maxBurst',
  'campaigns',
  'typeWeights',
  'channelWeights',
  'deviceWeights',
  'revenueMedian',
  'revenueSigma',
  'consentRates',
  'schemaVersion',
  'producerId',
  'startTime',
  'ratePerSec',
  'stages',
  'maxJitterMs',
  'lateProbability',
  'lateMinMs',
  'lateMaxMs',
] as const;

const DEFAULT_TYPE_WEIGHTS: Record<EventType, number> = { impression: 80, click: 17, conversion: 3 };
const DEFAULT_CHANNEL_WEIGHTS: Record<Channel, number> = {
  search: 30,
  social: 25,
  display: 20,
  email: 10,
  affiliate: 8,
  direct: 7,
};
const DEFAULT_DEVICE_WEIGHTS: Record<Device, number> = { desktop: 35, mobile: 55, tablet: 7, unknown: 3 };
// Conversions pick a currency with these fixed weights (not an option: nobody has asked to tune it).
const CURRENCY_WEIGHTS = [60, 20, 10, 6, 4];
export const DEFAULT_START_TIME = 1_700_000_000_000;
const MAX_TIME = 8_640_000_000_000; // the largest Date; keeps times safe integers with room for lateness

/** The resolved, validated model with its precomputed tables. Immutable; build once per generator. */
export interface TrafficModel {
  readonly users: number;
  readonly heavyUsers: number;
  readonly maxBurst: number;
  readonly campaigns: number;
  readonly schemaVersion: SchemaVersion;
  readonly producerId: number;
  readonly startTime: number;
  readonly ratePerSec: number;
  readonly maxJitterMs: number;
  readonly lateMinMs: number;
  readonly lateMaxMs: number;
  readonly options: Readonly<
    Required<Omit<TrafficModelOptions, 'typeWeights' | 'channelWeights' | 'deviceWeights' | 'consentRates' | 'stages'>>
  > & {
    stages: readonly LoadStage[] | undefined;
    typeWeights: Record<EventType, number>;
    channelWeights: Record<Channel, number>;
    deviceWeights: Record<Device, number>;
    consentRates: { analytics: number; ads: number };
  };
  /** A draw below the cut means "no": so a draw of 0 (fast-check's shrink target) is always the plain case. */
  readonly heavyCut: number;
  readonly burstCut: number;
  readonly lateCut: number;
  readonly analyticsCut: number;
  readonly adsCut: number;
  readonly typeCum: Uint32Array;
  readonly channelCum: Uint32Array;
  readonly deviceCum: Uint32Array;
  readonly currencyCum: Uint32Array;
  readonly revenueQuantiles: Float64Array;
  readonly msPerEvent: number;
  /** sent_at of each index (the open model's clock). */
  readonly schedule: SendSchedule;
}

export function resolveTrafficModel(
  path: string,
  o: TrafficModelOptions = {},
  defaults: { users: number } = { users: 1000 },
): TrafficModel {
  checkKeys(path, o, TRAFFIC_MODEL_KEYS);
  const users = intOption(`${path}.users`, o.users, defaults.users, 1, MAX_USERS);
  const heavyUsers = intOption(`${path}.heavyUsers`, o.heavyUsers, Math.max(1, Math.round(users / 100)), 1, users);
  const heavyShare = probabilityOption(`${path}.heavyShare`, o.heavyShare, 0.3);
  const burstProbability = probabilityOption(`${path}.burstProbability`, o.burstProbability, 0.02);
  const maxBurst = intOption(`${path}.maxBurst`, o.maxBurst, 16, 2, 1_000_000);
  const campaigns = intOption(`${path}.campaigns`, o.campaigns, 50, 1, 10_000);
  const typeWeights = weightsOption(`${path}.typeWeights`, o.typeWeights, EVENT_TYPES, DEFAULT_TYPE_WEIGHTS);
  const channelWeights = weightsOption(`${path}.channelWeights`, o.channelWeights, CHANNELS, DEFAULT_CHANNEL_WEIGHTS);
  const deviceWeights = weightsOption(`${path}.deviceWeights`, o.deviceWeights, DEVICES, DEFAULT_DEVICE_WEIGHTS);
  const revenueMedian = positive(`${path}.revenueMedian`, o.revenueMedian, 40, 1_000_000);
  const revenueSigma = positive(`${path}.revenueSigma`, o.revenueSigma, 1.1, 5);
  if (o.consentRates !== undefined) checkKeys(`${path}.consentRates`, o.consentRates, ['analytics', 'ads']);
  const consentRates = {
    analytics: probabilityOption(`${path}.consentRates.analytics`, o.consentRates?.analytics, 0.9),
    ads: probabilityOption(`${path}.consentRates.ads`, o.consentRates?.ads, 0.75),
  };
  const schemaVersion = oneOfOption(`${path}.schemaVersion`, o.schemaVersion, 3 as SchemaVersion, SCHEMA_VERSIONS);
  const producerId = intOption(`${path}.producerId`, o.producerId, 0, 0, MAX_PRODUCER_ID);
  const lateMaxMs = intOption(`${path}.lateMaxMs`, o.lateMaxMs, 6 * 3_600_000, 0, 365 * 86_400_000);
  const lateMinMs = intOption(`${path}.lateMinMs`, o.lateMinMs, Math.min(15 * 60_000, lateMaxMs), 0, lateMaxMs);
  const maxJitterMs = intOption(`${path}.maxJitterMs`, o.maxJitterMs, 2000, 0, 86_400_000);
  const startTime = intOption(`${path}.startTime`, o.startTime, DEFAULT_START_TIME, lateMaxMs + maxJitterMs, MAX_TIME);
  const ratePerSec = positive(`${path}.ratePerSec`, o.ratePerSec, 10_000, 1e9);
  const stages = stagesOption(`${path}.stages`, o.stages);
  if (stages !== undefined && o.ratePerSec !== undefined) {
    throw optionError(`${path}.stages`, 'either stages or ratePerSec, not both', o.stages);
  }
  const lateProbability = probabilityOption(`${path}.lateProbability`, o.lateProbability, 0.001);
  return Object.freeze({
    users,
    heavyUsers,
    maxBurst,
    campaigns,
    schemaVersion,
    producerId,
    startTime,
    ratePerSec,
    maxJitterMs,
    lateMinMs,
    lateMaxMs,
    options: {
      users,
      heavyUsers,
      heavyShare,
      burstProbability,
      maxBurst,
      campaigns,
      typeWeights,
      channelWeights,
      deviceWeights,
      revenueMedian,
      revenueSigma,
      consentRates,
      schemaVersion,
      producerId,
      startTime,
      ratePerSec,
      stages,
      maxJitterMs,
      lateProbability,
      lateMinMs,
      lateMaxMs,
    },
    heavyCut: cut(heavyShare),
    burstCut: cut(burstProbability),
    lateCut: cut(lateProbability),
    // Consent is "true" below the cut, so a zero draw is the default (consent given).
    analyticsCut: Math.round(consentRates.analytics * DRAW_RANGE),
    adsCut: Math.round(consentRates.ads * DRAW_RANGE),
    typeCum: cumulative(EVENT_TYPES.map((t) => typeWeights[t])),
    channelCum: cumulative(CHANNELS.map((c) => channelWeights[c])),
    deviceCum: cumulative(DEVICES.map((d) => deviceWeights[d])),
    currencyCum: cumulative(CURRENCY_WEIGHTS),
    revenueQuantiles: revenueTable(revenueMedian, revenueSigma),
    msPerEvent: 1000 / ratePerSec,
    schedule: new SendSchedule(startTime, ratePerSec, stages),
  });
}

function positive(path: string, v: unknown, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v > 0 && v <= max)) throw optionError(path, `a number in (0, ${max}]`, v);
  return v;
}

/** "yes" iff draw >= cut, so P(yes) = p and a zero draw is "no". */
function cut(p: number): number {
  return Math.round((1 - p) * DRAW_RANGE);
}

/** Cumulative upper bounds in draw space; the last is DRAW_RANGE so every draw lands in some category. */
function cumulative(weights: readonly number[]): Uint32Array {
  const total = weights.reduce((s, w) => s + w, 0);
  const out = new Uint32Array(weights.length);
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i]!;
    out[i] = Math.round((acc / total) * DRAW_RANGE);
  }
  out[weights.length - 1] = DRAW_RANGE;
  return out;
}

export function category(u: number, cum: Uint32Array): number {
  let i = 0;
  while (u >= cum[i]!) i++;
  return i;
}

/** Uniform integer in [0, n) from a draw (multiply-shift: no modulo bias worth the name at n << 2^31). */
export function scale(u: number, n: number): number {
  return Math.floor((u * n) / DRAW_RANGE);
}

/** Per-stream mutable state: one counter per user, the current burst, the emission index. */
export class TrafficState {
  readonly userSeq: Uint32Array;
  burstUser = 0;
  burstLeft = 0;
  /** Emission index = the producer's seq of the next event. */
  index = 0;
  constructor(users: number) {
    this.userSeq = new Uint32Array(users);
  }
}

/** The fields of one emitted event, as indices and integers (the bulk writer reads these without allocating). */
export class EventFields {
  seq = 0;
  user = 0;
  userSeq = 0;
  type = 0;
  channel = 0;
  campaign = 0;
  /** Revenue in cents, or -1 when not a conversion. */
  revenueCents = -1;
  /** Index into CURRENCIES, or -1 when not a conversion. */
  currency = -1;
  device = 3;
  consentAnalytics = true;
  consentAds = true;
  eventTime = 0;
  sentAt = 0;
}

export const CONVERSION = 2;

/** Emits the next event of the stream into `out`. Pure given (model, state, draws): the whole model is here. */
export function step(m: TrafficModel, s: TrafficState, src: DrawSource, out: EventFields): void {
  let user: number;
  if (s.burstLeft > 0) {
    user = s.burstUser;
    s.burstLeft--;
  } else {
    user = src.u31(D.userKind) >= m.heavyCut ? scale(src.u31(D.user), m.heavyUsers) : scale(src.u31(D.user), m.users);
    if (src.u31(D.burst) >= m.burstCut) {
      s.burstUser = user;
      s.burstLeft = 1 + scale(src.u31(D.burstLen), m.maxBurst - 1);
    }
  }
  const index = s.index++;
  out.seq = index;
  out.user = user;
  out.userSeq = s.userSeq[user]!;
  s.userSeq[user] = out.userSeq + 1;
  const type = category(src.u31(D.type), m.typeCum);
  out.type = type;
  out.channel = category(src.u31(D.channel), m.channelCum);
  out.campaign = scale(src.u31(D.campaign), m.campaigns);
  if (type === CONVERSION) {
    out.revenueCents = revenueCents(src.u31(D.revenue), m.revenueQuantiles);
    out.currency = category(src.u31(D.currency), m.currencyCum);
  } else {
    out.revenueCents = -1;
    out.currency = -1;
  }
  if (m.schemaVersion >= 2) out.device = category(src.u31(D.device), m.deviceCum);
  if (m.schemaVersion >= 3) {
    out.consentAnalytics = src.u31(D.consentAnalytics) < m.analyticsCut;
    out.consentAds = src.u31(D.consentAds) < m.adsCut;
  }
  const sentAt = m.schedule.at(index);
  out.sentAt = sentAt;
  out.eventTime =
    src.u31(D.timeKind) >= m.lateCut
      ? sentAt - m.lateMinMs - scale(src.u31(D.time), m.lateMaxMs - m.lateMinMs + 1)
      : sentAt - scale(src.u31(D.time), m.maxJitterMs + 1);
}

export function campaignName(i: number): string {
  return `cmp-${String(i).padStart(4, '0')}`;
}

/** Materialises the fields as an event object of the model's schema version. */
export function toEvent(m: TrafficModel, f: EventFields): Event {
  const base = {
    event_id: eventId(m.producerId, f.seq),
    user_id: userId(f.user),
    user_seq: f.userSeq,
    type: EVENT_TYPES[f.type]!,
    channel: CHANNELS[f.channel]!,
    campaign: campaignName(f.campaign),
    event_time: f.eventTime,
    sent_at: f.sentAt,
    revenue: f.revenueCents < 0 ? null : f.revenueCents / 100,
    currency: f.currency < 0 ? null : CURRENCIES[f.currency]!,
    schema_version: m.schemaVersion,
  };
  if (m.schemaVersion === 1) return base;
  if (m.schemaVersion === 2) return { ...base, device: DEVICES[f.device]! };
  return { ...base, device: DEVICES[f.device]!, consent: { analytics: f.consentAnalytics, ads: f.consentAds } };
}

/** A draw source over one fast-check slot vector. */
export class SlotSource implements DrawSource {
  constructor(public slots: readonly number[]) {}
  u31(slot: number): number {
    return this.slots[slot]!;
  }
}
