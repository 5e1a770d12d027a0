/**
 * The history of a run: the record shape every part writes, and the compact stores checkers read.
 * See docs/checkers.md for the model and the memory cost.
 */

export {
  type DrainState,
  type FaultWindow,
  HISTORY_FORMAT,
  HISTORY_VERSION,
  History,
  type HistoryJson,
  type HistoryOptions,
  historyOf,
} from './history.ts';
export { loadHistory, saveHistory } from './history-file.ts';
export { LATENCY_UNIT, LatencyStore, percentileMs, type SecondBucket, type SeriesPoint } from './latency-store.ts';
export {
  DEFAULT_OBSERVATION_OPTIONS,
  ObservationStore,
  type ObservationStoreOptions,
  type ProducerSightings,
  type UndecodableExample,
} from './observation-store.ts';
export { OrderStore, type OrderStoreOptions, type OrderViolation } from './order-store.ts';
export { type OutcomeCounts, OutcomeStore, type ProducerOutcomes } from './outcome-store.ts';
export {
  type DrainRecord,
  type EventRef,
  FAULT_PHASES,
  type FaultPhase,
  type FaultRecord,
  formatEventId,
  type HistoryRecord,
  type HistoryRecordKind,
  MAX_EVENT_SEQ,
  MAX_PRODUCER,
  type ObservedRecord,
  type OfferedRecord,
  OUTCOMES,
  type Outcome,
  type OutcomeRecord,
  parseEventId,
} from './record.ts';
export { popcount32, SeqBitset, type SeqBitsetJson } from './seq-bitset.ts';
