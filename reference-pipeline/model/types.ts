/**
 * The shapes the attribution model reads and writes. Field names are snake_case because these are wire shapes: the
 * input is the event the generator produces and the collector puts on Kafka, the output is the record the attributor
 * writes to its output topic and the lake. Both are plain JSON (no Dates, no bigints, no undefined fields), so a record
 * computed by the checker and one read back from Kafka compare with a deep equality.
 */

export const EVENT_TYPES = ['impression', 'click', 'conversion'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Event types that can be credited for a conversion. */
export const TOUCH_TYPES = ['impression', 'click'] as const;
export type TouchType = (typeof TOUCH_TYPES)[number];

export const CHANNELS = ['search', 'social', 'display', 'email', 'affiliate', 'direct'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * The models in canonical output order. For one conversion, records come model by model in this order, whatever order
 * the `models` option lists them in.
 */
export const ATTRIBUTION_MODELS = ['last-touch', 'first-touch', 'linear', 'time-decay', 'position-based'] as const;
export type AttributionModel = (typeof ATTRIBUTION_MODELS)[number];

/**
 * One input event. Structural on purpose: the generator declares its own type with (at least) these fields, and
 * anything decoded from Kafka is checked at run time by `applyEvent` anyway.
 */
export interface AttributionInput {
  readonly event_id: string;
  readonly user_id: string;
  /** Strictly increasing per user; the order the model folds a user's events in. */
  readonly user_seq: number;
  readonly type: EventType;
  readonly channel: Channel;
  readonly campaign: string;
  /** Milliseconds since the epoch. May be out of order relative to `user_seq`. */
  readonly event_time: number;
  /** Conversions only, in major units of `currency` (`19.99` USD); `null` on touches and on revenue-less conversions. */
  readonly revenue: number | null;
  /** ISO 4217 code, upper case. Conversions with revenue only. */
  readonly currency: string | null;
}

/** A touchpoint (impression or click) as the model sees it. */
export interface Touch extends AttributionInput {
  readonly type: TouchType;
}

/** The channel and campaign a conversion is credited to when no touch is in its lookback window. */
export const UNATTRIBUTED_CHANNEL = 'direct' satisfies Channel;
export const UNATTRIBUTED_CAMPAIGN = '(none)';

/**
 * One output record: the share of one conversion one model gives to one touch (or to the `direct` / `(none)`
 * pseudo-touch when no touch is in the window; then `touch_event_id`, `touch_type` and `touch_time` are `null`).
 */
export interface AttributionRecord {
  /** `${conversion_id}:${model}:${touch_event_id ?? '(none)'}` with `%` and `:` escaped in each part; see `recordId`. */
  readonly record_id: string;
  /** The conversion's `event_id`. */
  readonly conversion_id: string;
  readonly user_id: string;
  readonly model: AttributionModel;
  readonly touch_event_id: string | null;
  readonly touch_type: TouchType | null;
  readonly channel: Channel;
  readonly campaign: string;
  /** Fraction of the conversion in [0, 1]; the credits of one conversion and model sum to 1 within 1e-9. */
  readonly credit: number;
  /**
   * Revenue share in major units, always a whole number of minor units (`revenue_credit_minor / 10^exponent`).
   * `null` when the conversion has no revenue.
   */
  readonly revenue_credit: number | null;
  /** Revenue share in integer minor units (cents); these sum exactly to the conversion's revenue. */
  readonly revenue_credit_minor: number | null;
  readonly currency: string | null;
  readonly conversion_time: number;
  readonly touch_time: number | null;
}

export const REJECTION_REASONS = [
  /** `event_time` is older than the user's max event time seen minus `allowedLatenessMs`. */
  'late',
  /** A field is missing, of the wrong type, or out of range; `field` names it. */
  'invalid-field',
  /** `user_seq` is not above the last one applied for this user: a duplicate or a reordering upstream. */
  'user-seq-not-increasing',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/**
 * An event the model did not apply. `kind` is what the attributor routes on (both go to the dead-letter topic, with
 * different headers); `reason` and `message` say why, for a person.
 */
export interface Rejection {
  readonly kind: 'late' | 'invalid';
  readonly reason: RejectionReason;
  /** For `invalid-field`: the field, e.g. `event_time`. */
  readonly field: string | null;
  readonly message: string;
  /** The event as received (untouched), so it can be dead-lettered verbatim. */
  readonly event: AttributionInput;
}
