/**
 * The model contract: the output must be what a model (the user's module, model-api.ts) computes from the input that
 * really landed. `decode` keeps every output (model.decode, or key + JSON value) for `finish`, which reads the input
 * back (unknown sends resolved by what landed), runs the model over its events and records one `observed` history
 * record per input event whose outputs came out right (latency from its sent_at; `step` models only, or a contract's
 * own `sourceOf`), so the latency and SLO checkers apply unchanged. The `model` checker (checkers/model.ts) judges.
 */
import type { Event } from '../../generators/event.ts';
import { checkModel, jsonEquals, type ModelOutput, type ModelResult, model } from '../checkers/model.ts';
import { type Checker, DEFAULT_MAX_EXAMPLES } from '../checkers/types.ts';
import { StreamproofError } from '../util/errors.ts';
import type { ContractFinish, ContractRun, ContractSetup, InputRecord, OutputRecord } from './contract.ts';
import type { PipelineModel } from './model-api.ts';
import { loadModel, type ModelContractSpec } from './model-load.ts';

/**
 * An output kept for `finish`: the model's view of it and where it was read, in one object (one per output record:
 * flat, because a run keeps millions).
 */
interface Kept<V> extends ModelOutput<V> {
  /** The record's own key (the model's `key` may differ), partition, offset and the time the harness saw it. */
  readonly recordKey: string | undefined;
  readonly partition: number;
  readonly offset: number;
  readonly time: number;
}

/** How a contract built on the model interface differs from a user's model (the attribution contract's). */
export interface ModelContractOptions<V> {
  /** The contract's and its checker's name. Default `model`. */
  readonly name?: string;
  /** Where errors point. Default `sut.contract.model`. */
  readonly path?: string;
  /** Every output keeps its source user's key (order is then judged per user). Default false. */
  readonly keyAffinity?: boolean;
  /** The event an expected output comes from, for latency (a `final` model's outputs have none otherwise). */
  readonly sourceOf?: (expected: ModelOutput<V>, eventById: (id: string) => Event | undefined) => Event | undefined;
  readonly maxExamples?: number;
}

/** Turns bigint cells (lake BIGINT columns) into numbers (or decimal strings beyond 2^53), recursively. */
export function plainJson(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(plainJson);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, plainJson(x)]));
  }
  return v;
}

/** The default decode: key = the record's key, value = its value as JSON (a lake row as is). */
export function defaultDecode(record: OutputRecord): ModelOutput<unknown> {
  if (record.key === undefined) throw new Error('output record without a key (give the model a decode)');
  const value = record.row ? plainJson(record.row) : JSON.parse(record.value.toString('utf8'));
  return { key: record.key, value };
}

function failed(path: string, message: string, cause: unknown): StreamproofError {
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
 * What the model expects: per key, its values in order (`expected`) and, for a `step` model, the event each came
 * from (`sources`, parallel to `expected`, for latency). One Map and one small array per key: at millions of outputs
 * this is most of what judging a run holds (docs/checkers.md, "Memory").
 */
interface Ran<V> {
  readonly expected: Map<string, V[]>;
  readonly sources: Map<string, Event[]> | undefined;
}

function runModel<S, V>(m: PipelineModel<S, V>, events: readonly Event[], path: string, compare: string): Ran<V> {
  const expected = new Map<string, V[]>();
  const sources = m.final ? undefined : new Map<string, Event[]>();
  const add = (key: string, value: V, source: Event | undefined) => {
    const list = expected.get(key);
    if (list === undefined) {
      expected.set(key, [value]);
      if (sources && source) sources.set(key, [source]);
    } else if (compare === 'once') {
      throw StreamproofError.at(
        'MODEL_FAILED',
        `the model produced key ${JSON.stringify(key)} twice${source ? ` (event ${source.event_id})` : ''}, but compare is "once"`,
        { path },
      );
    } else {
      list.push(value);
      if (sources && source) sources.get(key)?.push(source);
    }
  };
  if (m.final) {
    let result: unknown;
    try {
      result = m.final(events);
    } catch (err) {
      throw failed(path, 'final threw', err);
    }
    if (result === null || typeof result !== 'object')
      throw StreamproofError.at('MODEL_FAILED', 'final returned neither [key, value] pairs nor an object', { path });
    // Pairs are taken one at a time: a final that yields them lazily never holds them all.
    const pairs: Iterable<readonly [unknown, V]> =
      Symbol.iterator in result
        ? (result as Iterable<readonly [unknown, V]>)
        : (Object.entries(result as Record<string, V>) as [string, V][]);
    try {
      for (const p of pairs) {
        if (!Array.isArray(p) || typeof p[0] !== 'string')
          throw StreamproofError.at('MODEL_FAILED', 'final returned a pair whose key is not a string', { path });
        add(p[0], p[1] as V, undefined);
      }
    } catch (err) {
      throw err instanceof StreamproofError ? err : failed(path, 'final threw', err);
    }
    return { expected, sources };
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
    for (const o of outputsOf<V>(outs, path, `step (event ${e.event_id})`)) add(o.key, o.value, e);
  }
  return { expected, sources };
}

/**
 * The model is a pure function of the input that landed, so a run computes it once: the output topic's contract and
 * the lake's (and any other judged with the same model object) share one result, keyed by the run's input as read
 * back (one array per run). A step model is not shared (its `init` state may be mutated).
 */
const shared = new WeakMap<object, WeakMap<readonly InputRecord[], Ran<unknown>>>();

function modelOver<S, V>(m: PipelineModel<S, V>, input: readonly InputRecord[], path: string, compare: string): Ran<V> {
  const byInput = m.final ? (shared.get(m) ?? new WeakMap<readonly InputRecord[], Ran<unknown>>()) : undefined;
  const hit = byInput?.get(input);
  if (hit) return hit as Ran<V>;
  const sorted = [...input].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  const events = sorted.flatMap((r) => (r.event === undefined ? [] : [r.event]));
  const ran = runModel(m, events, path, compare);
  if (byInput) {
    byInput.set(input, ran as Ran<unknown>);
    shared.set(m, byInput);
  }
  return ran;
}

/** A contract from a model object (already checked): the user's, or one the harness defines (attribution). */
export function createModelContractFrom<S, V>(
  m: PipelineModel<S, V>,
  options: ModelContractOptions<V> = {},
): ContractRun {
  const name = options.name ?? 'model';
  const path = options.path ?? 'sut.contract.model';
  const compare = m.compare ?? 'last';
  const equals = m.equals ? (e: V, o: V) => m.equals!(e, o) : (jsonEquals as (e: V, o: V) => boolean);
  const decode = m.decode ? (r: OutputRecord) => m.decode!(r) : (defaultDecode as (r: OutputRecord) => ModelOutput<V>);
  const kept: Kept<V>[] = [];
  /** Output records read, and those the decode threw on: all of them means the model's decode is wrong. */
  let read = 0;
  let threw = 0;
  let firstError = '';
  let skipped = 0;
  let judged: { expected: Map<string, V[]>; drainComplete: boolean; latencySamples: number } | undefined;
  const checkOptions = { compare, equals, name, maxExamples: options.maxExamples ?? DEFAULT_MAX_EXAMPLES };
  const data = () => (judged ? { ...judged, observed: kept } : undefined);
  const checker: Checker<ModelResult> = model<V>(data, checkOptions);
  const withNotes: Checker<ModelResult> = {
    name,
    check: (h) => {
      const r = checker.check(h);
      if (!judged) return r;
      const latency =
        m.step || options.sourceOf
          ? `latency: ${judged.latencySamples} input event(s) traced to their first correct output`
          : 'latency: not measured (a final model cannot trace an output to the input event it came from)';
      return {
        ...r,
        counts: { ...r.counts, skipped, latencySamples: judged.latencySamples },
        notes: [latency, ...(skipped ? [`${skipped} output record(s) skipped by the model's decode`] : [])],
      };
    },
  };
  return {
    name,
    keyAffinity: options.keyAffinity ?? false,
    decode(record) {
      read++;
      let out: ModelOutput<V> | null | undefined;
      try {
        out = decode(record);
      } catch (err) {
        if (threw++ === 0) firstError = (err as Error)?.message ?? String(err);
        throw err;
      }
      if (out === null || out === undefined) {
        skipped++;
        return null;
      }
      if (typeof out.key !== 'string') throw new Error('decode returned an output whose key is not a string');
      const { partition, offset, time } = record;
      kept.push({ key: out.key, value: out.value, recordKey: record.key, partition, offset, time });
      return null;
    },
    async finish(ctx: ContractFinish) {
      if (read > 0 && threw === read) {
        // Not the pipeline's anomaly: the decode reads another format than the output's. Unknown (exit 3), with why.
        throw StreamproofError.at(
          'MODEL_FAILED',
          `the decode threw on every one of the ${read} output record(s) (the first: ${firstError}): make it read what the pipeline writes`,
          { path },
        );
      }
      const { expected, sources } = modelOver(m, await ctx.input(), path, compare);
      const byId = new Map<string, Event>();
      if (options.sourceOf && !sources)
        for (const r of await ctx.input()) if (r.event !== undefined) byId.set(r.event.event_id, r.event);
      const sourceOf = options.sourceOf;
      // Latency: per key, walk the observed outputs forward through the expected ones; the first correct output of
      // each source event is its sighting. `next` holds a key only while it has expected outputs left to walk.
      const sampled = new Set<string>();
      const next = new Map<string, number>();
      for (const o of kept) {
        const exp = expected.get(o.key);
        if (!exp) continue;
        for (let j = next.get(o.key) ?? 0; j < exp.length; j++) {
          const x = exp[j] as V;
          if (!equals(x, o.value)) continue;
          if (j + 1 < exp.length) next.set(o.key, j + 1);
          else if (exp.length > 1) next.set(o.key, exp.length);
          const src = sources?.get(o.key)?.[j] ?? sourceOf?.({ key: o.key, value: x }, (id) => byId.get(id));
          if (src && !sampled.has(src.event_id)) {
            sampled.add(src.event_id);
            ctx.history.record({
              kind: 'observed',
              time: o.time,
              eventId: src.event_id,
              key: o.recordKey,
              partition: o.partition,
              offset: o.offset,
              userSeq: options.keyAffinity ? src.user_seq : undefined,
              sentAt: src.sent_at,
            });
          }
          break;
        }
      }
      judged = { expected, drainComplete: ctx.drainComplete, latencySamples: sampled.size };
    },
    checkers: () => [withNotes],
    anomalies: () => {
      if (!judged) return { lost: [], duplicated: [], unexpected: [], mismatch: [] };
      const full = checkModel(judged.expected, kept, {
        ...checkOptions,
        drainComplete: judged.drainComplete,
        maxExamples: Number.MAX_SAFE_INTEGER,
      });
      return { lost: full.lost, duplicated: full.duplicated, unexpected: full.unexpected, mismatch: full.mismatch };
    },
  };
}

/** `contract: { model: "./m.ts" }`: loads the module (exit 64 if it does not load) and builds the contract. */
export async function createModelContract(
  spec: ModelContractSpec,
  setup: Pick<ContractSetup, 'baseDir'>,
  path = 'sut.contract',
): Promise<ContractRun> {
  const m = await loadModel(spec, setup.baseDir, path);
  return createModelContractFrom(m, { path: `${path}.model` });
}
