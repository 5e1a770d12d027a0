/**
 * The open-model Kafka load driver. See docs/load.md for the model, the knobs and the measurements.
 */
export { type Clock, FakeClock, systemClock } from './clock.ts';
export { type LaneSender, type LatencySummary, LoadDriver, type LoadSummary, type OutMessage } from './driver.ts';
export { DEFINITE_PRODUCE_ERRORS, describeError, produceOutcome } from './kafka-outcome.ts';
export { type LoadStart, type RunningLoad, startLoad } from './load.ts';
export { murmur2, partitionForKey } from './murmur2.ts';
export {
  COMPRESSIONS,
  type Compression,
  type LoadOptions,
  type LoadStageSpec,
  plannedEvents,
  type ResolvedLoad,
  resolveLoadOptions,
} from './options.ts';
