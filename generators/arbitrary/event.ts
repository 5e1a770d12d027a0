/**
 * `event()`: one realistic event of the traffic model (the same distribution the bulk generator draws from), with an
 * arbitrary producer sequence and user sequence. Use `traffic()` when the relation between events matters.
 */
import fc from 'fast-check';
import type { Event } from '../event.ts';
import {
  EventFields,
  resolveTrafficModel,
  SlotSource,
  step,
  TRAFFIC_MODEL_KEYS,
  type TrafficModelOptions,
  TrafficState,
  toEvent,
} from '../model.ts';
import { checkKeys, intOption } from '../options.ts';
import { drawVector } from './draws.ts';

export interface EventConstraints extends TrafficModelOptions {
  /** Largest producer seq in event_id. Default 1_000_000. */
  maxSeq?: number;
  /** Largest user_seq. Default 10_000. */
  maxUserSeq?: number;
}

/** One event; all constraints optional (see TrafficModelOptions for the model's defaults; users default 1000). */
export function event(constraints: EventConstraints = {}): fc.Arbitrary<Event> {
  checkKeys('event', constraints, [...TRAFFIC_MODEL_KEYS, 'maxSeq', 'maxUserSeq']);
  const { maxSeq: maxSeqOpt, maxUserSeq: maxUserSeqOpt, ...modelOptions } = constraints;
  const maxSeq = intOption('event.maxSeq', maxSeqOpt, 1_000_000, 0, Number.MAX_SAFE_INTEGER);
  const maxUserSeq = intOption('event.maxUserSeq', maxUserSeqOpt, 10_000, 0, 0xffffffff);
  const model = resolveTrafficModel('event', modelOptions);
  // One state reused by every value: the mapping resets what it reads (burst, index) and overrides the per-user
  // counter, so values do not depend on each other.
  const state = new TrafficState(model.users);
  const f = new EventFields();
  return fc
    .tuple(drawVector, fc.integer({ min: 0, max: maxSeq }), fc.integer({ min: 0, max: maxUserSeq }))
    .map(([draws, seq, userSeq]) => {
      state.burstLeft = 0;
      state.index = seq;
      step(model, state, new SlotSource(draws), f);
      f.userSeq = userSeq;
      return toEvent(model, f);
    });
}
