/**
 * Per-user state of the attribution model and the fold step a stream processor runs for each event.
 *
 * The model: a user's output is a function of that user's events in user_seq order and of nothing else. State is
 * what the fold needs to continue: the last user_seq applied (to reject duplicates and upstream reorderings), the max
 * event time seen (the user's watermark, for lateness and pruning) and the touches that can still be credited,
 * sorted by event time then user_seq. A conversion is credited once, when it is applied, over the touches applied
 * before it (in user_seq order) whose event time is within `[conversion_time - lookbackMs, conversion_time]`: output is
 * append-only, never retracted, which is what an exactly-once output topic can express.
 *
 * Pruning is exact: a touch is dropped only once no conversion that could still be applied can reach it, so it never
 * changes an output (only the `maxTouches` cap can, and that is documented). State is plain JSON, small, and written to
 * a compacted changelog topic keyed by user_id; restoring it and continuing gives the same outputs as never stopping.
 */

import { compareTouches, creditConversion, type StoredTouch } from './credit.ts';
import { AttributionModelError } from './errors.ts';
import type { ResolvedAttributionOptions } from './options.ts';
import { type AttributionInput, type AttributionRecord, CHANNELS, type Rejection } from './types.ts';
import { checkEvent } from './validate-event.ts';

export interface UserState {
  readonly version: 1;
  /** The last user_seq applied (or rejected as late); `null` before the first event. */
  readonly last_user_seq: number | null;
  /** The max event time among applied events; `null` before the first one. */
  readonly max_event_time: number | null;
  /** Touches still creditable, oldest first (event time, then user_seq). At most `maxTouches`. */
  readonly touches: readonly StoredTouch[];
}

export interface ApplyResult {
  readonly state: UserState;
  /** The conversion's attribution records in canonical order; empty for touches and rejected events. */
  readonly outputs: readonly AttributionRecord[];
  /** Why the event was not applied; `null` when it was. */
  readonly rejection: Rejection | null;
}

const EMPTY: UserState = Object.freeze({ version: 1, last_user_seq: null, max_event_time: null, touches: [] });

export function createUserState(): UserState {
  return EMPTY;
}

/** Index of the first touch with event time >= `from` (touches are sorted by event time). */
function lowerBound(touches: readonly StoredTouch[], from: number): number {
  let lo = 0;
  let hi = touches.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((touches[mid]?.event_time ?? 0) < from) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Touches within the lookback window of a conversion: `conversion_time - lookbackMs <= t <= conversion_time`. */
export function windowTouches(
  touches: readonly StoredTouch[],
  conversionTime: number,
  options: ResolvedAttributionOptions,
): readonly StoredTouch[] {
  // A touch later in event time than the conversion cannot have caused it, even if it was applied first.
  return touches.slice(
    lowerBound(touches, conversionTime - options.lookbackMs),
    lowerBound(touches, conversionTime + 1),
  );
}

function insertSorted(touches: readonly StoredTouch[], touch: StoredTouch): StoredTouch[] {
  // Touches mostly arrive in event-time order, so scan from the end.
  let at = touches.length;
  while (at > 0 && compareTouches(touches[at - 1] as StoredTouch, touch) > 0) at -= 1;
  return [...touches.slice(0, at), touch, ...touches.slice(at)];
}

function reject(state: UserState, rejection: Rejection): ApplyResult {
  return { state, outputs: [], rejection };
}

/**
 * Applies one event to a user's state. Pure: `state` is not modified; the result carries the next state, the records
 * to emit (conversions only) and, if the event was not applied, a `Rejection` to dead-letter. The caller routes events
 * by `user_id`: this function does not look at it except to copy it into records.
 *
 * Order of checks: malformed fields (`invalid`, state unchanged); user_seq not above the last one (`invalid`, state
 * unchanged, so a redelivered event is rejected every time it comes back); event time older than the watermark minus
 * `allowedLatenessMs` (`late`: user_seq advances, nothing else). Then a touch of an enabled type is kept, a conversion
 * is credited, and touches no future conversion can reach are pruned.
 */
export function applyEvent(
  state: UserState,
  event: AttributionInput,
  options: ResolvedAttributionOptions,
): ApplyResult {
  const check = checkEvent(event, options);
  if (!check.ok) {
    return reject(state, {
      kind: 'invalid',
      reason: 'invalid-field',
      field: check.problem.field,
      message: check.problem.message,
      event,
    });
  }
  const seq = event.user_seq;
  if (state.last_user_seq !== null && seq <= state.last_user_seq) {
    return reject(state, {
      kind: 'invalid',
      reason: 'user-seq-not-increasing',
      field: 'user_seq',
      message: `user_seq ${seq} is not above the last applied ${state.last_user_seq} for user ${JSON.stringify(event.user_id)} (a duplicate or an upstream reordering)`,
      event,
    });
  }
  const time = event.event_time + 0;
  if (state.max_event_time !== null && time < state.max_event_time - options.allowedLatenessMs) {
    return reject(
      { ...state, last_user_seq: seq },
      {
        kind: 'late',
        reason: 'late',
        field: 'event_time',
        message: `event_time ${time} is ${state.max_event_time - time} ms behind the user's max event time ${state.max_event_time}, more than allowedLatenessMs ${options.allowedLatenessMs}`,
        event,
      },
    );
  }
  const maxEventTime = state.max_event_time === null ? time : Math.max(state.max_event_time, time);
  let touches = state.touches;
  let outputs: AttributionRecord[] = [];
  if (check.conversion !== null) {
    outputs = creditConversion(check.conversion, windowTouches(touches, time, options), options);
  } else if (options.touchTypes.includes(event.type as never)) {
    touches = insertSorted(touches, {
      event_id: event.event_id,
      user_seq: seq,
      type: event.type as StoredTouch['type'],
      channel: event.channel,
      campaign: event.campaign,
      event_time: time,
    });
  }
  // Every conversion still to come is at or after (watermark - allowedLatenessMs), or it is late; its window starts
  // lookbackMs before that. Touches older than this cutoff are unreachable, so dropping them changes no output.
  const cutoff = maxEventTime - options.allowedLatenessMs - options.lookbackMs;
  let keepFrom = lowerBound(touches, cutoff);
  // The cap drops the oldest: recent touches matter to more models (last-touch, time-decay) and to more conversions.
  keepFrom = Math.max(keepFrom, touches.length - options.maxTouches);
  if (keepFrom > 0) touches = touches.slice(keepFrom);
  return { state: { version: 1, last_user_seq: seq, max_event_time: maxEventTime, touches }, outputs, rejection: null };
}

// The changelog encoding: short keys and touches as tuples, since this value is rewritten on every event of a user.
// {"v":1,"s":<last_user_seq|null>,"m":<max_event_time|null>,"k":[[event_id,user_seq,"i"|"c",channel,campaign,event_time],...]}
type WireTouch = [string, number, 'i' | 'c', string, string, number];

/** The state as a compact JSON string for the changelog topic. Deterministic: equal states give equal strings. */
export function serializeState(state: UserState): string {
  const k: WireTouch[] = state.touches.map((t) => [
    t.event_id,
    t.user_seq,
    t.type === 'impression' ? 'i' : 'c',
    t.channel,
    t.campaign,
    t.event_time,
  ]);
  return JSON.stringify({ v: state.version, s: state.last_user_seq, m: state.max_event_time, k });
}

function invalidState(path: string, message: string): never {
  throw new AttributionModelError('MODEL_INVALID_STATE', message, { path });
}

const isSafeOrNull = (x: unknown): x is number | null =>
  x === null || (typeof x === 'number' && Number.isSafeInteger(x));

/**
 * Parses a changelog value written by `serializeState`. Throws `AttributionModelError` (`MODEL_INVALID_STATE`) naming
 * the bad path: a corrupt changelog must stop the attributor loudly, not restart a user from empty state.
 */
export function deserializeState(text: string): UserState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new AttributionModelError('MODEL_INVALID_STATE', 'not valid JSON', { path: 'state', cause });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) invalidState('state', 'expected an object');
  const r = raw as Record<string, unknown>;
  if (r.v !== 1) invalidState('state.v', `unknown state version ${JSON.stringify(r.v)} (this model reads 1)`);
  if (!isSafeOrNull(r.s)) invalidState('state.s', 'expected the last user_seq, an integer or null');
  if (!isSafeOrNull(r.m)) invalidState('state.m', 'expected the max event time, an integer or null');
  if (!Array.isArray(r.k)) invalidState('state.k', 'expected an array of touches');
  const touches = r.k.map((item: unknown, i): StoredTouch => {
    const at = `state.k[${i}]`;
    if (!Array.isArray(item) || item.length !== 6) invalidState(at, 'expected a 6-tuple');
    const [eventId, seq, type, channel, campaign, time] = item as unknown[];
    if (typeof eventId !== 'string' || eventId === '') invalidState(`${at}[0]`, 'expected an event id');
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq)) invalidState(`${at}[1]`, 'expected a user_seq');
    if (type !== 'i' && type !== 'c') invalidState(`${at}[2]`, 'expected "i" or "c"');
    if (!CHANNELS.includes(channel as never)) invalidState(`${at}[3]`, 'expected a channel');
    if (typeof campaign !== 'string') invalidState(`${at}[4]`, 'expected a campaign');
    if (typeof time !== 'number' || !Number.isSafeInteger(time)) invalidState(`${at}[5]`, 'expected an event time');
    return {
      event_id: eventId,
      user_seq: seq,
      type: type === 'i' ? 'impression' : 'click',
      channel: channel as StoredTouch['channel'],
      campaign,
      event_time: time,
    };
  });
  touches.forEach((t, i) => {
    const prev = touches[i - 1];
    if (prev !== undefined && compareTouches(prev, t) >= 0) {
      invalidState(`state.k[${i}]`, 'touches must be sorted by event time, then user_seq, without repeats');
    }
  });
  if ((r.s === null) !== (r.m === null)) invalidState('state', 's and m must be both null or both set');
  return { version: 1, last_user_seq: r.s, max_event_time: r.m, touches };
}
