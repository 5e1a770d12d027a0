/**
 * The open-model Kafka load, and the pacing engine and transport interface it shares with the HTTP load (http.ts,
 * imported on its own: it loads autocannon). See docs/load.md for the model, the knobs and the measurements.
 */
export { type Clock, FakeClock, systemClock } from './clock.ts';
export { LoadDriver } from './driver.ts';
export { DEFINITE_PRODUCE_ERRORS, describeError, produceOutcome } from './kafka-outcome.ts';
export { kafkaTransport, type LaneSender } from './lane-sender.ts';
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
export { type EngineConfig, PacingEngine } from './pacing-engine.ts';
export type { EngineSummary, HttpLoadSummary, LatencySummary, LoadSummary } from './summary.ts';
export type { Ending, LaneTransport, OutMessage, SentRequest, Verdict } from './transport.ts';
