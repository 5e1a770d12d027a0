/**
 * Run-time check of one input event. Events come off Kafka (or out of a generator under test), so the static type
 * promises nothing: a bad event must become data the attributor can dead-letter, never an exception that stops the
 * partition. The rules are strict on purpose (a touch carrying revenue is malformed, not "revenue 0"): a certifier
 * that silently repairs input hides the bug it exists to find.
 */

import type { ConversionFacts } from './credit.ts';
import { toMinorUnits } from './money.ts';
import { CURRENCY_CODE, type ResolvedAttributionOptions } from './options.ts';
import { CHANNELS, EVENT_TYPES } from './types.ts';

/** What is wrong with an event: the field and a message for a person. */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

export type EventCheck =
  | { readonly ok: true; readonly conversion: ConversionFacts | null }
  | { readonly ok: false; readonly problem: FieldProblem };

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

const bad = (field: string, expected: string, got: unknown): EventCheck => ({
  ok: false,
  problem: { field, message: `${field}: expected ${expected}, got ${show(got)}` },
});

/** Checks every field the model reads; for a conversion, also returns its facts with revenue in minor units. */
export function checkEvent(event: unknown, options: ResolvedAttributionOptions): EventCheck {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return bad('event', 'an object', event);
  const e = event as Record<string, unknown>;
  if (typeof e.event_id !== 'string' || e.event_id === '') return bad('event_id', 'a non-empty string', e.event_id);
  if (typeof e.user_id !== 'string' || e.user_id === '') return bad('user_id', 'a non-empty string', e.user_id);
  if (typeof e.user_seq !== 'number' || !Number.isSafeInteger(e.user_seq) || e.user_seq < 0) {
    return bad('user_seq', 'an integer >= 0', e.user_seq);
  }
  if (!EVENT_TYPES.includes(e.type as never)) return bad('type', EVENT_TYPES.join(' | '), e.type);
  if (!CHANNELS.includes(e.channel as never)) return bad('channel', CHANNELS.join(' | '), e.channel);
  if (typeof e.campaign !== 'string') return bad('campaign', 'a string', e.campaign);
  if (typeof e.event_time !== 'number' || !Number.isSafeInteger(e.event_time)) {
    return bad('event_time', 'whole milliseconds since the epoch', e.event_time);
  }
  if (e.type !== 'conversion') {
    if (e.revenue !== null) return bad('revenue', 'null on a touch', e.revenue);
    if (e.currency !== null) return bad('currency', 'null on a touch', e.currency);
    return { ok: true, conversion: null };
  }
  const base = { event_id: e.event_id, user_id: e.user_id, event_time: e.event_time + 0 };
  if (e.revenue === null) {
    if (e.currency !== null) return bad('currency', 'null when revenue is null', e.currency);
    return { ok: true, conversion: { ...base, revenue_minor: null, currency: null, currency_exponent: 0 } };
  }
  if (typeof e.revenue !== 'number' || !Number.isFinite(e.revenue) || e.revenue < 0) {
    return bad('revenue', 'a finite number >= 0 or null', e.revenue);
  }
  if (typeof e.currency !== 'string' || !CURRENCY_CODE.test(e.currency)) {
    return bad('currency', 'an upper-case ISO 4217 code when revenue is set', e.currency);
  }
  const exponent = options.currencyExponents[e.currency] ?? 2;
  const minor = toMinorUnits(e.revenue, exponent);
  if (minor === null) return bad('revenue', `an amount below 2^53 minor units of ${e.currency}`, e.revenue);
  return {
    ok: true,
    conversion: { ...base, revenue_minor: minor, currency: e.currency, currency_exponent: exponent },
  };
}
