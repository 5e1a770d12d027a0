/**
 * The public model interface: a user's module says what a pipeline's output must be for the input that really
 * landed (`contract: { "model": "./my-model.ts" }`, default export). docs/checkers.md ("model") has how it is judged.
 */
import type { Event } from '../../generators/event.ts';
import type { ModelCompare, ModelOutput } from '../checkers/model.ts';
import type { OutputRecord } from './contract.ts';

export type { ModelCompare, ModelOutput } from '../checkers/model.ts';

export interface PipelineModel<S = unknown, V = unknown> {
  /**
   * `last` (default): the last value per key after the drain must be the model's last (aggregates);
   * `sequence`: every output per key, in order (needs `step`); `once`: each key exactly once (a repeat is `duplicated`).
   */
  readonly compare?: ModelCompare;
  /**
   * An output record -> its key and value; null skips it (counted); a throw makes it `undecodable`. Default: key =
   * the record's key, value = its value parsed as JSON (a decimal string "42" is 42; a lake row is `record.row`).
   */
  decode?(record: OutputRecord): ModelOutput<V> | null;
  /** The fold's initial state (default undefined). `step` may mutate it. */
  init?(): S;
  /**
   * A fold over the input events that landed, partition by partition (ascending), in offset order within each; one
   * state for all. Returns the outputs this event produces. Outputs' latency is measured from this event's sent_at.
   */
  step?(state: S, event: Event): readonly ModelOutput<V>[];
  /** ... or the final value per key over all the events (then latency is not measured). Exactly one of step / final. */
  final?(events: readonly Event[]): Iterable<readonly [string, V]> | Readonly<Record<string, V>>;
  /** Default: deep equality of JSON values. */
  equals?(expected: V, observed: V): boolean;
}

/** Types a model module's default export: `export default defineModel({ final: (events) => ... })`. */
export function defineModel<S = unknown, V = unknown>(model: PipelineModel<S, V>): PipelineModel<S, V> {
  return model;
}
