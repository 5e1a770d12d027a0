/**
 * The marketing-attribution event: the one record shape every part of streamproof agrees on.
 *
 * Model: a user (the Kafka key) sees impressions, clicks and conversions across channels and campaigns. Each event is
 * identified by `${producer_id}-${seq}` where `seq` counts the records one producer offered, from 0: a checker can
 * then keep one bitset per producer instead of a set of strings. `user_seq` counts one user's events from 0 in emission
 * order, so per-user order is checkable from the output alone. `event_time` is when it happened, `sent_at` when the
 * load generator intended to send it (open model), so lateness and end-to-end latency are both measurable.
 *
 * Versions evolve the way a real team would: v2 adds `device` (an enum with a default, so readers survive new
 * devices), v3 adds `consent` (a record whose fields all have defaults). Every addition has a default, so the chain is
 * FULL_TRANSITIVE compatible. `schema_version` is the version the *writer* used; a newer reader still sees the
 * writer's number, with the added fields filled from their defaults.
 */

export const EVENT_TYPES = ['impression', 'click', 'conversion'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const CHANNELS = ['search', 'social', 'display', 'email', 'affiliate', 'direct'] as const;
export type Channel = (typeof CHANNELS)[number];

export const DEVICES = ['desktop', 'mobile', 'tablet', 'unknown'] as const;
export type Device = (typeof DEVICES)[number];

/** Currencies the generators emit. The schema says `string`; a collector must not assume this list is closed. */
export const CURRENCIES = ['USD', 'EUR', 'GBP', 'CAD', 'AUD'] as const;

export const SCHEMA_VERSIONS = [1, 2, 3] as const;
export type SchemaVersion = (typeof SCHEMA_VERSIONS)[number];
export const LATEST_SCHEMA_VERSION: SchemaVersion = 3;

export interface Consent {
  analytics: boolean;
  ads: boolean;
}

export interface EventV1 {
  event_id: string;
  user_id: string;
  user_seq: number;
  type: EventType;
  channel: Channel;
  campaign: string;
  /** When the touch or conversion happened, ms since the epoch. */
  event_time: number;
  /** When the load generator intended to send it, ms since the epoch (open model: latency is measured from here). */
  sent_at: number;
  /** Set on conversions only. */
  revenue: number | null;
  /** Set on conversions only (ISO 4217 code). */
  currency: string | null;
  /** Version of the schema the writer used. */
  schema_version: SchemaVersion;
}

export interface EventV2 extends EventV1 {
  device: Device;
}

export interface EventV3 extends EventV2 {
  consent: Consent;
}

/** An event as a reader of schema version V sees it. */
export type EventOf<V extends SchemaVersion> = V extends 1 ? EventV1 : V extends 2 ? EventV2 : EventV3;

/** Any version. Discriminate with `'consent' in e` / `'device' in e`, not with `schema_version` (that is the writer's). */
export type Event = EventV1 | EventV2 | EventV3;

export const DEFAULT_DEVICE: Device = 'unknown';
export const DEFAULT_CONSENT: Readonly<Consent> = Object.freeze({ analytics: true, ads: true });

/** Producer ids are small so a checker can index bitsets by them. */
export const MAX_PRODUCER_ID = 65_535;
/** User ids are `u` + 7 digits: fixed width, so keys are 8 bytes and sort like their numbers. */
export const MAX_USERS = 10_000_000;

export function eventId(producer: number, seq: number): string {
  if (!Number.isInteger(producer) || producer < 0 || producer > MAX_PRODUCER_ID) {
    throw new RangeError(`eventId: producer must be an integer in [0, ${MAX_PRODUCER_ID}], got ${producer}`);
  }
  if (!Number.isSafeInteger(seq) || seq < 0) {
    throw new RangeError(`eventId: seq must be a non-negative safe integer, got ${seq}`);
  }
  return `${producer}-${seq}`;
}

// Canonical decimal only (no leading zeros, no sign): one event has exactly one id string.
const EVENT_ID = /^(0|[1-9][0-9]{0,4})-(0|[1-9][0-9]{0,15})$/;

/** Inverse of {@link eventId}; `undefined` for anything `eventId` could not have produced. */
export function parseEventId(id: string): { producer: number; seq: number } | undefined {
  const m = EVENT_ID.exec(id);
  if (m === null) return undefined;
  const producer = Number(m[1]);
  const seq = Number(m[2]);
  if (producer > MAX_PRODUCER_ID || !Number.isSafeInteger(seq)) return undefined;
  return { producer, seq };
}

export function userId(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_USERS) {
    throw new RangeError(`userId: index must be an integer in [0, ${MAX_USERS - 1}], got ${index}`);
  }
  return `u${String(index).padStart(7, '0')}`;
}

const USER_ID = /^u[0-9]{7}$/;

export function parseUserId(id: string): number | undefined {
  return USER_ID.test(id) ? Number(id.slice(1)) : undefined;
}

/**
 * What a reader of version `version` sees of `e`: added fields take their schema defaults, removed ones are dropped.
 * This is the reference semantics of Avro schema resolution along our version chain, so tests can compare with it.
 */
export function asVersion<V extends SchemaVersion>(e: Event, version: V): EventOf<V> {
  const base: EventV1 = {
    event_id: e.event_id,
    user_id: e.user_id,
    user_seq: e.user_seq,
    type: e.type,
    channel: e.channel,
    campaign: e.campaign,
    event_time: e.event_time,
    sent_at: e.sent_at,
    revenue: e.revenue,
    currency: e.currency,
    schema_version: e.schema_version,
  };
  if (version === 1) return base as EventOf<V>;
  const device = 'device' in e ? e.device : DEFAULT_DEVICE;
  if (version === 2) return { ...base, device } as EventOf<V>;
  const consent = 'consent' in e ? { ...e.consent } : { ...DEFAULT_CONSENT };
  return { ...base, device, consent } as EventOf<V>;
}

/** Rules a collector enforces beyond the schema: the reference semantics that `badEvent()` violates. */
export interface EventRules {
  /** Oldest acceptable event_time, ms epoch. Default 2000-01-01T00:00:00Z. */
  minEventTime?: number;
  /** How far event_time may be after sent_at (clock skew), ms. Default 1 hour. */
  maxFutureSkewMs?: number;
  /** Longest campaign / id string, in UTF-8 bytes. Default 256. */
  maxStringBytes?: number;
}

export const DEFAULT_EVENT_RULES: Readonly<Required<EventRules>> = Object.freeze({
  minEventTime: Date.UTC(2000, 0, 1),
  maxFutureSkewMs: 3_600_000,
  maxStringBytes: 256,
});

/**
 * Semantic problems of an event that already has the right shape (the schema checks shape). Returns an empty list for
 * a valid event; each entry names the field first so a DLQ reason reads `revenue: set on a click`.
 */
export function eventProblems(e: Event, rules: EventRules = {}): string[] {
  const r = { ...DEFAULT_EVENT_RULES, ...rules };
  const problems: string[] = [];
  const id = parseEventId(e.event_id);
  if (id === undefined) problems.push(`event_id: expected "<producer>-<seq>", got ${JSON.stringify(e.event_id)}`);
  if (parseUserId(e.user_id) === undefined)
    problems.push(`user_id: expected "u" and 7 digits, got ${short(e.user_id)}`);
  if (!Number.isSafeInteger(e.user_seq) || e.user_seq < 0) problems.push(`user_seq: expected a non-negative integer`);
  for (const field of ['campaign', 'event_id', 'user_id'] as const) {
    if (Buffer.byteLength(e[field]) > r.maxStringBytes)
      problems.push(`${field}: longer than ${r.maxStringBytes} bytes`);
  }
  if (e.campaign.length === 0) problems.push('campaign: empty');
  if (e.event_time < r.minEventTime) problems.push(`event_time: before ${new Date(r.minEventTime).toISOString()}`);
  if (e.event_time > e.sent_at + r.maxFutureSkewMs)
    problems.push(`event_time: more than ${r.maxFutureSkewMs} ms after sent_at`);
  if (e.type === 'conversion') {
    if (e.revenue === null || !Number.isFinite(e.revenue) || e.revenue < 0) {
      problems.push('revenue: a conversion needs a finite non-negative revenue');
    }
    if (e.currency === null || !/^[A-Z]{3}$/.test(e.currency))
      problems.push('currency: a conversion needs an ISO 4217 code');
  } else {
    if (e.revenue !== null) problems.push(`revenue: set on a ${e.type}`);
    if (e.currency !== null) problems.push(`currency: set on a ${e.type}`);
  }
  return problems;
}

function short(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}
