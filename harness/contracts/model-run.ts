/**
 * Running a model over the input that landed, for the model contract (model.ts): the fold itself (`foldModel`, each
 * output handed on as it is made), the expected outputs per key it builds (`ExpectedOutputs`), the result shared by
 * every contract of a run that uses the same model (`modelOver`), and the latency trace that walks observed outputs
 * through the expected ones (`traceLatency`).
 */
import type { Event } from '../../generators/event.ts';
import type { ModelOutput } from '../checkers/model.ts';
import { StreamproofError } from '../util/errors.ts';
import type { InputRecord } from './contract.ts';
import type { PipelineModel } from './model-api.ts';

/** What latency needs of the event an output came from. */
export type SourceRef = Pick<Event, 'event_id' | 'sent_at' | 'user_seq'>;

export function failed(path: string, message: string, cause: unknown): StreamproofError {
  return StreamproofError.at('MODEL_FAILED', `${message}: ${(cause as Error)?.message ?? String(cause)}`, {
    path,
    cause,
  });
}

function outputsOf<V>(x: unknown, path: string, where: string): ModelOutput<V>[] {
  const list = x === undefined || x === null ? [] : x;
  if (typeof list !== 'object' || !(Symbol.iterator in (list as object)))
    throw StreamproofError.at('MODEL_FAILED', `${where} returned ${typeof x}, not a list of { key, value }`, { path });
  const out = [...(list as Iterable<ModelOutput<V>>)];
  for (const o of out) {
    if (typeof o?.key !== 'string')
      throw StreamproofError.at('MODEL_FAILED', `${where} returned an output whose key is not a string`, { path });
  }
  return out;
}

/**
 * Runs the model over the events and hands on every output as it is made, with the event it came from (`step`
 * models; undefined for `final`). A `final` that yields its pairs lazily is never held whole.
 */
export function foldModel<S, V>(
  m: PipelineModel<S, V>,
  events: readonly Event[],
  path: string,
  emit: (key: string, value: V, source: Event | undefined) => void,
): void {
  if (m.final) {
    let result: unknown;
    try {
      result = m.final(events);
    } catch (err) {
      throw failed(path, 'final threw', err);
    }
    if (result === null || typeof result !== 'object')
      throw StreamproofError.at('MODEL_FAILED', 'final returned neither [key, value] pairs nor an object', { path });
    const pairs: Iterable<readonly [unknown, V]> =
      Symbol.iterator in result
        ? (result as Iterable<readonly [unknown, V]>)
        : (Object.entries(result as Record<string, V>) as [string, V][]);
    try {
      for (const p of pairs) {
        if (!Array.isArray(p) || typeof p[0] !== 'string')
          throw StreamproofError.at('MODEL_FAILED', 'final returned a pair whose key is not a string', { path });
        emit(p[0], p[1] as V, undefined);
      }
    } catch (err) {
      throw err instanceof StreamproofError ? err : failed(path, 'final threw', err);
    }
    return;
  }
  let state: S;
  try {
    state = m.init ? m.init() : (undefined as S);
  } catch (err) {
    throw failed(path, 'init threw', err);
  }
  for (const e of events) {
    let outs: unknown;
    try {
      outs = m.step?.(state, e);
    } catch (err) {
      throw failed(path, `step threw on event ${e.event_id}`, err);
    }
    for (const o of outputsOf<V>(outs, path, `step (event ${e.event_id})`)) emit(o.key, o.value, e);
  }
}

/**
 * What the model expects: per key, its values in order (`expected`) and, for a `step` model, the event each came
 * from (`sources`, parallel to `expected`, for latency). One Map entry and one small array per key.
 */
export class ExpectedOutputs<V> {
  readonly expected = new Map<string, V[]>();
  readonly sources: Map<string, SourceRef[]> | undefined;

  constructor(
    private readonly compare: string,
    private readonly path: string,
    withSources: boolean,
  ) {
    this.sources = withSources ? new Map() : undefined;
  }

  add(key: string, value: V, source: SourceRef | undefined): void {
    const list = this.expected.get(key);
    if (list === undefined) {
      this.expected.set(key, [value]);
      if (this.sources && source) this.sources.set(key, [source]);
    } else if (this.compare === 'once') {
      throw StreamproofError.at(
        'MODEL_FAILED',
        `the model produced key ${JSON.stringify(key)} twice${source ? ` (event ${source.event_id})` : ''}, but compare is "once"`,
        { path: this.path },
      );
    } else {
      list.push(value);
      if (this.sources && source) this.sources.get(key)?.push(source);
    }
  }
}

/** The landed input's events in the order a model folds them: partition by partition, offsets ascending. */
export function eventsOf(input: readonly InputRecord[]): Event[] {
  const sorted = [...input].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  return sorted.flatMap((r) => (r.event === undefined ? [] : [r.event]));
}

/**
 * The model is a pure function of the input that landed, so a run computes it once: the output topic's contract and
 * the lake's (and any other judged with the same model object) share one result, keyed by the run's input as read
 * back (one array per run). A step model is not shared (its `init` state may be mutated).
 */
const shared = new WeakMap<object, WeakMap<readonly InputRecord[], ExpectedOutputs<unknown>>>();

export function modelOver<S, V>(
  m: PipelineModel<S, V>,
  input: readonly InputRecord[],
  path: string,
  compare: string,
): ExpectedOutputs<V> {
  const byInput = m.final ? (shared.get(m) ?? new WeakMap()) : undefined;
  const hit = byInput?.get(input);
  if (hit) return hit as ExpectedOutputs<V>;
  const out = new ExpectedOutputs<V>(compare, path, !m.final);
  foldModel(m, eventsOf(input), path, (k, v, e) => out.add(k, v, e));
  if (byInput) {
    byInput.set(input, out as ExpectedOutputs<unknown>);
    shared.set(m, byInput);
  }
  return out;
}

/** An observed output as the latency trace needs it. */
export interface TracedOutput<V> extends ModelOutput<V> {
  /** Its place in reading order (the contract's count of records read). */
  readonly seq: number;
  readonly recordKey: string | undefined;
  readonly partition: number;
  readonly offset: number;
  readonly time: number;
}

/**
 * Latency: per key, walks the observed outputs forward through the expected ones; the first correct output of each
 * source event is its sighting (`sighted`, once per event over every call sharing `sampled`). `next` holds a key only
 * while it has expected outputs left to walk.
 */
export function traceLatency<V>(
  observed: Iterable<TracedOutput<V>>,
  x: ExpectedOutputs<V>,
  equals: (e: V, o: V) => boolean,
  sourceOf: ((expected: ModelOutput<V>) => SourceRef | undefined) | undefined,
  sampled: Set<string>,
  sighted: (o: TracedOutput<V>, source: SourceRef) => void,
): void {
  const next = new Map<string, number>();
  for (const o of observed) {
    const exp = x.expected.get(o.key);
    if (!exp) continue;
    for (let j = next.get(o.key) ?? 0; j < exp.length; j++) {
      const v = exp[j] as V;
      if (!equals(v, o.value)) continue;
      if (j + 1 < exp.length) next.set(o.key, j + 1);
      else if (exp.length > 1) next.set(o.key, exp.length);
      const src = x.sources?.get(o.key)?.[j] ?? sourceOf?.({ key: o.key, value: v });
      if (src && !sampled.has(src.event_id)) {
        sampled.add(src.event_id);
        sighted(o, src);
      }
      break;
    }
  }
}
