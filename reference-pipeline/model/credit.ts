/**
 * The five attribution models as weight functions over a conversion's window touches (sorted by event time, then
 * user_seq), and the records they produce. Every model is "weights, then normalise": credit = weight / sum of weights,
 * revenue = largest-remainder split of the conversion's minor units by the same weights. Keeping one path for all
 * models is what makes "credits sum to 1" and "cents sum exactly" hold for all of them at once.
 *
 * - last-touch:     the latest touch gets everything.
 * - first-touch:    the earliest touch gets everything.
 * - linear:         every touch the same.
 * - time-decay:     2^(-(conversion_time - touch_time) / halfLife), computed relative to the latest touch (see below).
 * - position-based: 40% first, 40% last, 20% spread evenly over the middle; 1 touch: 100%; 2 touches: 50/50.
 */

import { allocateLargestRemainder, fromMinorUnits } from './money.ts';
import type { ResolvedAttributionOptions } from './options.ts';
import {
  type AttributionModel,
  type AttributionRecord,
  type Channel,
  type TouchType,
  UNATTRIBUTED_CAMPAIGN,
  UNATTRIBUTED_CHANNEL,
} from './types.ts';

/** The fields of a touch the model keeps in state; `event_time` and `user_seq` order them. */
export interface StoredTouch {
  readonly event_id: string;
  readonly user_seq: number;
  readonly type: TouchType;
  readonly channel: Channel;
  readonly campaign: string;
  readonly event_time: number;
}

/** A conversion after validation, its revenue already in minor units. */
export interface ConversionFacts {
  readonly event_id: string;
  readonly user_id: string;
  readonly event_time: number;
  /** `null` when the conversion carries no revenue. */
  readonly revenue_minor: number | null;
  readonly currency: string | null;
  readonly currency_exponent: number;
}

/** Total order of touches: event time, then user_seq (unique per user, so no further tie). */
export function compareTouches(a: StoredTouch, b: StoredTouch): number {
  return a.event_time - b.event_time || a.user_seq - b.user_seq;
}

/**
 * Weights per model for `n >= 1` touches sorted oldest first. Integer weights where the model is rational, so the
 * revenue split is exact in the sense a person checks by hand (position-based with 5 touches: 2·3, 1, 1, 1, 2·3 over
 * 5·3, i.e. 40%, 6.67% ×3, 40%).
 */
export function modelWeights(model: AttributionModel, touches: readonly StoredTouch[], halfLifeMs: number): number[] {
  const n = touches.length;
  switch (model) {
    case 'last-touch':
      return touches.map((_, i) => (i === n - 1 ? 1 : 0));
    case 'first-touch':
      return touches.map((_, i) => (i === 0 ? 1 : 0));
    case 'linear':
      return touches.map(() => 1);
    case 'time-decay': {
      // 2^(-(conv - t)/h) normalised equals 2^(-(latest - t)/h) normalised: the factor 2^(-(conv - latest)/h) cancels.
      // Measuring from the latest touch keeps its weight at 1, so a long lookback over a short half-life cannot
      // underflow every weight to 0 and divide by zero.
      const latest = touches[n - 1]?.event_time ?? 0;
      return touches.map((t) => 2 ** (-(latest - t.event_time) / halfLifeMs));
    }
    case 'position-based': {
      if (n <= 2) return touches.map(() => 1);
      const ends = 2 * (n - 2);
      return touches.map((_, i) => (i === 0 || i === n - 1 ? ends : 1));
    }
  }
}

/** Escapes `%` and `:` so `a:b:c` ids are injective whatever characters event ids contain. */
function idPart(s: string): string {
  // Most ids need no escaping; skipping the regexes matters on the checker's path (millions of records).
  if (!s.includes('%') && !s.includes(':')) return s;
  return s.replace(/%/g, '%25').replace(/:/g, '%3A');
}

/**
 * The stable id of a record: `${conversion_id}:${model}:${touch_event_id}`, `(none)` for the pseudo-touch, with `%`
 * and `:` percent-escaped in the ids. One conversion, model and touch give one record, so a repeated id in the output
 * is a duplicate and a missing one is a loss.
 */
export function recordId(conversionId: string, model: AttributionModel, touchEventId: string | null): string {
  return `${idPart(conversionId)}:${model}:${touchEventId === null ? '(none)' : idPart(touchEventId)}`;
}

/**
 * The records of one conversion: for each enabled model in canonical order, one record per credited touch in touch
 * order. `last-touch` and `first-touch` emit only their one touch; the fractional models emit every window touch (a
 * time-decay weight that underflows to 0 still gets its record, so the record set is the window). With no touch in
 * the window, every model emits one record for the `direct` / `(none)` pseudo-touch with the whole credit, so revenue
 * by channel still adds up to total revenue downstream.
 */
export function creditConversion(
  conversion: ConversionFacts,
  window: readonly StoredTouch[],
  options: ResolvedAttributionOptions,
): AttributionRecord[] {
  const records: AttributionRecord[] = [];
  const revenueCredit = (minor: number | null) =>
    minor === null ? null : fromMinorUnits(minor, conversion.currency_exponent);
  const currency = conversion.revenue_minor === null ? null : conversion.currency;
  for (const model of options.models) {
    if (window.length === 0) {
      records.push({
        record_id: recordId(conversion.event_id, model, null),
        conversion_id: conversion.event_id,
        user_id: conversion.user_id,
        model,
        touch_event_id: null,
        touch_type: null,
        channel: UNATTRIBUTED_CHANNEL,
        campaign: UNATTRIBUTED_CAMPAIGN,
        credit: 1,
        revenue_credit: revenueCredit(conversion.revenue_minor),
        revenue_credit_minor: conversion.revenue_minor,
        currency,
        conversion_time: conversion.event_time,
        touch_time: null,
      });
      continue;
    }
    const weights = modelWeights(model, window, options.halfLifeMs);
    const total = weights.reduce((a, b) => a + b, 0);
    const minors =
      conversion.revenue_minor === null ? null : allocateLargestRemainder(conversion.revenue_minor, weights);
    const singleTouch = model === 'last-touch' || model === 'first-touch';
    window.forEach((touch, i) => {
      const weight = weights[i] ?? 0;
      if (singleTouch && weight === 0) return;
      const minor = minors === null ? null : (minors[i] ?? 0);
      records.push({
        record_id: recordId(conversion.event_id, model, touch.event_id),
        conversion_id: conversion.event_id,
        user_id: conversion.user_id,
        model,
        touch_event_id: touch.event_id,
        touch_type: touch.type,
        channel: touch.channel,
        campaign: touch.campaign,
        credit: weight / total,
        revenue_credit: revenueCredit(minor),
        revenue_credit_minor: minor,
        currency,
        conversion_time: conversion.event_time,
        touch_time: touch.event_time,
      });
    });
  }
  return records;
}
