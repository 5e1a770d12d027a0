/**
 * `traffic()`: many users interleaved, in emission order, from one producer: the traffic model of model.ts (heavy
 * users, bursts, out-of-order event times, late events) over a fast-check array of draw vectors.
 *
 * Invariants hold by construction, whatever fast-check generates or shrinks to: `user_seq` is 0, 1, 2... per user
 * in emission order, event ids are `${producerId}-0`, `-1`... in emission order (so unique). Shrinking removes
 * emissions and shrinks draws towards the plain case, so counterexamples come out as a few on-time impressions.
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
import { checkKeys, intOption, optionError } from '../options.ts';
import { drawVector } from './draws.ts';

export interface TrafficConstraints extends TrafficModelOptions {
  /** Fewest events. Default 0. */
  minEvents?: number;
  /** Most events. Default 200. */
  maxEvents?: number;
}

/** Events in emission order. Model defaults as in TrafficModelOptions, except users: default 50 (so users repeat). */
export function traffic(constraints: TrafficConstraints = {}): fc.Arbitrary<Event[]> {
  checkKeys('traffic', constraints, [...TRAFFIC_MODEL_KEYS, 'minEvents', 'maxEvents']);
  const { minEvents: minOpt, maxEvents: maxOpt, ...modelOptions } = constraints;
  const minEvents = intOption('traffic.minEvents', minOpt, 0, 0, 1_000_000);
  const maxEvents = intOption('traffic.maxEvents', maxOpt, Math.max(200, minEvents), 0, 1_000_000);
  if (maxEvents < minEvents) throw optionError('traffic.maxEvents', `>= minEvents (${minEvents})`, maxEvents);
  const model = resolveTrafficModel('traffic', modelOptions, { users: 50 });
  return fc.array(drawVector, { minLength: minEvents, maxLength: maxEvents }).map((vectors) => {
    const state = new TrafficState(model.users);
    const f = new EventFields();
    const source = new SlotSource([]);
    const out: Event[] = new Array(vectors.length);
    for (let i = 0; i < vectors.length; i++) {
      source.slots = vectors[i]!;
      step(model, state, source, f);
      out[i] = toEvent(model, f);
    }
    return out;
  });
}
