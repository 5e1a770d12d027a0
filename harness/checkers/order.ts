/**
 * order: each user's events come out in the order they were offered.
 *
 * Model: the pipeline keys by user, Kafka keeps order within a partition, so within each (partition, user) the
 * first sightings of events, in consumption order, must have strictly increasing `user_seq`. The OrderStore
 * checks that while reading (memory per user, not per event) and this checker judges what it recorded:
 * - `reordered`: a first sighting whose `user_seq` is <= the last one seen for its user on its partition
 *   (backwards, or a repeat carried by a distinct event). A re-delivery of an already-seen event is never a
 *   reorder: it is `duplicated`, reported by exactlyOnce. A gap is never a reorder: it is `lost`.
 * Verdict: false on any reorder; `unknown` when two merged workers both read a partition (their interleaving is
 * unknown) and nothing was found; true otherwise. Records without a key and users split over several partitions
 * are reported as counts; with `keyAffinity` (the copy contract: every record keeps its key's partition), a user
 * split over several partitions is `reordered` too, since no consumer can then read that user's events in order.
 */

import type { History, OrderViolation } from '../history/index.ts';
import { type AnomalyName, type Checker, type CheckerResult, resolveMaxExamples } from './types.ts';

export interface OrderOptions {
  /** Examples kept. Default 20. */
  readonly maxExamples?: number;
  /** A user's records must all be on one partition (keyed partitioning); a split user is `reordered`. Default false. */
  readonly keyAffinity?: boolean;
}

export interface OrderResult extends CheckerResult {
  readonly checker: 'order';
  readonly counts: {
    readonly reordered: number;
    readonly users: number;
    readonly partitions: number;
    readonly usersOnSeveralPartitions: number;
    readonly unkeyed: number;
  };
  readonly reordered: readonly OrderViolation[];
  readonly usersOnSeveralPartitions: readonly string[];
  readonly overlappingPartitions: readonly number[];
}

export function checkOrder(history: History, options: OrderOptions = {}): OrderResult {
  const max = resolveMaxExamples(options.maxExamples, 'order.maxExamples');
  const store = history.order;
  const split = store.usersOnSeveralPartitions();
  const overlapping = store.overlappingPartitions;
  const splitIsAnomaly = options.keyAffinity === true && split.length > 0;
  const anomalyTypes: AnomalyName[] = store.violationCount > 0 || splitIsAnomaly ? ['reordered'] : [];
  const valid = anomalyTypes.length > 0 ? false : overlapping.length > 0 ? 'unknown' : true;
  return {
    checker: 'order',
    valid,
    anomalyTypes,
    ...(valid === 'unknown'
      ? {
          reason: `partitions ${overlapping.join(', ')} were read by more than one merged worker; their order cannot be reconstructed`,
        }
      : splitIsAnomaly
        ? { reason: `${split.length} user(s) were written to more than one partition: their order cannot be kept` }
        : {}),
    counts: {
      reordered: store.violationCount + (splitIsAnomaly ? split.length : 0),
      users: store.userCount(),
      partitions: store.partitions.length,
      usersOnSeveralPartitions: split.length,
      unkeyed: store.unkeyed,
    },
    reordered: store.violations.slice(0, max),
    usersOnSeveralPartitions: split.slice(0, max),
    overlappingPartitions: overlapping,
  };
}

export function order(options: OrderOptions = {}): Checker<OrderResult> {
  resolveMaxExamples(options.maxExamples, 'order.maxExamples');
  return { name: 'order', check: (history) => checkOrder(history, options) };
}
