/**
 * Event builders for this folder's tests: terse, explicit about what varies (user, seq, time), everything else a
 * fixed valid default so a failing test shows only what matters.
 */

import type { AttributionInput, Channel } from './types.ts';

export const DAY = 24 * 60 * 60 * 1000;
/** A fixed conversion time (2024-01-31T00:00:00Z), far from 0 so "30 days before" is a plain positive number. */
export const T0 = Date.UTC(2024, 0, 31);

interface Overrides {
  user?: string;
  channel?: Channel;
  campaign?: string;
  id?: string;
}

export function touch(type: 'impression' | 'click', seq: number, time: number, o: Overrides = {}): AttributionInput {
  return {
    event_id: o.id ?? `${o.user ?? 'u1'}-${seq}`,
    user_id: o.user ?? 'u1',
    user_seq: seq,
    type,
    channel: o.channel ?? 'search',
    campaign: o.campaign ?? `c${seq}`,
    event_time: time,
    revenue: null,
    currency: null,
  };
}

export const click = (seq: number, time: number, o: Overrides = {}) => touch('click', seq, time, o);
export const impression = (seq: number, time: number, o: Overrides = {}) => touch('impression', seq, time, o);

export function conversion(
  seq: number,
  time: number,
  revenue: number | null = 100,
  currency: string | null = revenue === null ? null : 'USD',
  o: Overrides = {},
): AttributionInput {
  return {
    event_id: o.id ?? `${o.user ?? 'u1'}-${seq}`,
    user_id: o.user ?? 'u1',
    user_seq: seq,
    type: 'conversion',
    channel: o.channel ?? 'direct',
    campaign: o.campaign ?? '',
    event_time: time,
    revenue,
    currency,
  };
}
