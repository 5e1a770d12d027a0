/**
 * The batch form of the model, for the checker: the expected output of a whole input. It is the same fold the
 * attributor runs (`applyEvent` per user in user_seq order), so the two can only disagree where the attributor is wrong.
 *
 * Canonical order, independent of how users interleave in `events`: first the events that cannot be routed to a user
 * (no usable `user_id` or `user_seq`) in input order; then users by `user_id` (UTF-16 code-unit order, not a locale),
 * each user's outcomes in user_seq order (events with equal user_seq in input order: the first is applied and the
 * others rejected as `user-seq-not-increasing`, as in the stream).
 */

import { type AttributionOptions, type ResolvedAttributionOptions, resolveOptions } from './options.ts';
import type { AttributionInput, AttributionRecord, Rejection } from './types.ts';
import { applyEvent, createUserState } from './user-state.ts';
import { checkEvent } from './validate-event.ts';

export interface AttributionResult {
  /** Every attribution record, in canonical order. */
  readonly records: AttributionRecord[];
  /** Every event not applied (`late` and `invalid`), in canonical order. */
  readonly rejections: Rejection[];
}

function routable(event: unknown): event is AttributionInput {
  if (typeof event !== 'object' || event === null) return false;
  const { user_id, user_seq } = event as Record<string, unknown>;
  return typeof user_id === 'string' && user_id !== '' && Number.isSafeInteger(user_seq) && (user_seq as number) >= 0;
}

/**
 * Attributes a whole input: groups events by `user_id`, sorts each user's events by `user_seq`, folds `applyEvent`
 * from an empty state, and returns all records and rejections in canonical order. Options are validated here (throws
 * `AttributionModelError` `MODEL_INVALID_OPTION`); events are never thrown on.
 */
export function attribute(
  events: Iterable<AttributionInput>,
  options: AttributionOptions | ResolvedAttributionOptions = {},
): AttributionResult {
  const records: AttributionRecord[] = [];
  const rejections: Rejection[] = [];
  for (const out of attributeEach(events, options)) {
    if ('record_id' in out) records.push(out);
    else rejections.push(out);
  }
  return { records, rejections };
}

/**
 * The same fold as `attribute`, yielding each record and rejection in canonical order as it is made: a consumer that
 * keeps only what it needs of each (the harness's checker, over millions of records) never holds them all.
 */
export function* attributeEach(
  events: Iterable<AttributionInput>,
  options: AttributionOptions | ResolvedAttributionOptions = {},
): Generator<AttributionRecord | Rejection> {
  const resolved = resolveOptions(options);
  const byUser = new Map<string, AttributionInput[]>();
  for (const event of events) {
    if (!routable(event)) {
      const check = checkEvent(event, resolved);
      const problem = check.ok ? { field: 'event', message: 'event: not routable to a user' } : check.problem;
      yield { kind: 'invalid', reason: 'invalid-field', field: problem.field, message: problem.message, event };
      continue;
    }
    const list = byUser.get(event.user_id);
    if (list === undefined) byUser.set(event.user_id, [event]);
    else list.push(event);
  }
  const users = [...byUser.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const user of users) {
    // Array.prototype.sort is stable, so equal user_seq keep input order.
    const stream = (byUser.get(user) ?? []).sort((a, b) => a.user_seq - b.user_seq);
    byUser.delete(user);
    let state = createUserState();
    for (const event of stream) {
      const result = applyEvent(state, event, resolved);
      state = result.state;
      yield* result.outputs;
      if (result.rejection !== null) yield result.rejection;
    }
  }
}
