/**
 * The model contract: the output must be what a model (the user's module, model-api.ts) computes from the input that
 * really landed. `decode` keeps every output (model.decode, or key + JSON value) for `finish`, which reads the input
 * back (unknown sends resolved by what landed), runs the model over its events and records one `observed` history
 * record per input event whose outputs came out right (latency from its sent_at; `step` models only, or a contract's
 * own `sourceOf`), so the latency and SLO checkers apply unchanged. The `model` checker (checkers/model.ts) judges.
 * Past `outputsInMemory` outputs, outputs and the model's expectations go to bucket files by key and the run is judged
 * bucket by bucket (docs/checkers.md, "Memory of a model contract").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Event } from '../../generators/event.ts';
import { checkModel, jsonEquals, type ModelOutput, type ModelResult, ModelTally, model } from '../checkers/model.ts';
import { type Checker, DEFAULT_MAX_EXAMPLES } from '../checkers/types.ts';
import { StreamproofError } from '../util/errors.ts';
import type { ContractFinish, ContractRun, ContractSetup, OutputRecord } from './contract.ts';
import type { PipelineModel } from './model-api.ts';
import { Buckets } from './model-buckets.ts';
import { loadModel, type ModelContractSpec } from './model-load.ts';
import {
  ExpectedOutputs,
  eventsOf,
  foldModel,
  modelOver,
  type SourceRef,
  type TracedOutput,
  traceLatency,
} from './model-run.ts';

/**
 * An output kept for `finish`: the model's view of it and where it was read, in one object (one per output record:
 * flat, because a run keeps millions).
 */
type Kept<V> = TracedOutput<V>;

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
  /**
   * Outputs kept in memory; past this many, they go to bucket files on disk by key and the run is judged one bucket
   * at a time (the same verdict, counts and anomalies, in bounded memory). Default 1 000 000.
   */
  readonly outputsInMemory?: number;
}

export const DEFAULT_OUTPUTS_IN_MEMORY = 1_000_000;

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

/** Buckets of an out-of-memory judgement: enough that one holds a few hundred thousand outputs at 10 M events. */
const BUCKETS = 128;

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
  const inMemory = options.outputsInMemory ?? DEFAULT_OUTPUTS_IN_MEMORY;
  const kept: Kept<V>[] = [];
  /** Past `inMemory` outputs, they go to bucket files by key (`spill`, under `spillRoot`) and finish judges by bucket. */
  let spill: Buckets<Kept<V>> | undefined;
  let spillRoot: string | undefined;
  const removeSpill = () => {
    if (spillRoot) rmSync(spillRoot, { recursive: true, force: true });
  };
  /** Output records read, and those the decode threw on: all of them means the model's decode is wrong. */
  let read = 0;
  let threw = 0;
  let firstError = '';
  let skipped = 0;
  /** After finish: in memory, the model's expected outputs (compared at check time); from buckets, the whole tally. */
  let judged:
    | ({ drainComplete: boolean; latencySamples: number } & (
        | { expected: Map<string, V[]>; tally?: undefined }
        | { tally: ModelTally<V>; expected?: undefined }
      ))
    | undefined;
  const checkOptions = { compare, equals, name, maxExamples: options.maxExamples ?? DEFAULT_MAX_EXAMPLES };
  const data = () =>
    judged?.expected ? { expected: judged.expected, drainComplete: judged.drainComplete, observed: kept } : undefined;
  const checker: Checker<ModelResult> = model<V>(data, checkOptions);
  const withNotes: Checker<ModelResult> = {
    name,
    check: (h) => {
      const r = judged?.tally ? judged.tally.result(judged.drainComplete) : checker.check(h);
      if (!judged) return r;
      const latency =
        m.step || options.sourceOf
          ? `latency: ${judged.latencySamples} input event(s) traced to their first correct output`
          : 'latency: not measured (a final model cannot trace an output to the input event it came from)';
      const spilled = judged.tally
        ? [`judged out of memory: ${r.counts.observedOutputs} outputs in ${BUCKETS} buckets by key`]
        : [];
      return {
        ...r,
        counts: { ...r.counts, skipped, latencySamples: judged.latencySamples },
        notes: [latency, ...(skipped ? [`${skipped} output record(s) skipped by the model's decode`] : []), ...spilled],
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
      const k: Kept<V> = { key: out.key, value: out.value, recordKey: record.key, partition, offset, time, seq: read };
      if (spill) spill.add(k.key, k);
      else if (kept.push(k) > inMemory) {
        spillRoot = mkdtempSync(join(tmpdir(), 'streamproof-judge-'));
        process.once('exit', removeSpill);
        spill = new Buckets<Kept<V>>(join(spillRoot, 'observed'), BUCKETS);
        for (const x of kept) spill.add(x.key, x);
        kept.length = 0;
      }
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
      const input = await ctx.input();
      const byId = new Map<string, Event>();
      if (options.sourceOf && m.final)
        for (const r of input) if (r.event !== undefined) byId.set(r.event.event_id, r.event);
      const given = options.sourceOf;
      const sourceOf = given ? (e: ModelOutput<V>) => given(e, (id) => byId.get(id)) : undefined;
      const sampled = new Set<string>();
      const sighted = (o: TracedOutput<V>, src: SourceRef) =>
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
      if (!spill) {
        const x = modelOver(m, input, path, compare);
        traceLatency(kept, x, equals, sourceOf, sampled, sighted);
        judged = { expected: x.expected, drainComplete: ctx.drainComplete, latencySamples: sampled.size };
        return;
      }
      // Out of memory: the model's outputs go to buckets by key as it makes them, then each bucket (its expected and
      // observed outputs, every one of a key in the same bucket) is traced and compared on its own.
      try {
        spill.flush();
        const expected = new Buckets<[string, V, SourceRef | undefined]>(join(spillRoot!, 'expected'), BUCKETS);
        foldModel(m, eventsOf(input), path, (k, v, e) =>
          expected.add(k, [k, v, e && { event_id: e.event_id, sent_at: e.sent_at, user_seq: e.user_seq }]),
        );
        expected.flush();
        const tally = new ModelTally<V>({ ...checkOptions, keep: Number.MAX_SAFE_INTEGER });
        const first = new Map<string, { o: TracedOutput<V>; src: SourceRef }>();
        for (let b = 0; b < BUCKETS; b++) {
          const x = new ExpectedOutputs<V>(compare, path, !m.final);
          for (const [k, v, e] of expected.read(b)) x.add(k, v, e);
          const observed = spill.read(b);
          // A source event's outputs may sit in several buckets (one key each): its sighting is its first correct
          // output in reading order over all of them, as in memory.
          traceLatency(observed, x, equals, sourceOf, new Set(), (o, src) => {
            const was = first.get(src.event_id);
            if (was === undefined || o.seq < was.o.seq) first.set(src.event_id, { o, src });
          });
          tally.add(x.expected, observed);
        }
        // Recorded in reading order, as in memory: the order checker compares each user's sightings in that order.
        for (const { o, src } of [...first.values()].sort((a, b) => a.o.seq - b.o.seq)) sighted(o, src);
        judged = { tally, drainComplete: ctx.drainComplete, latencySamples: first.size };
      } finally {
        removeSpill();
        process.removeListener('exit', removeSpill);
      }
    },
    checkers: () => [withNotes],
    anomalies: () => {
      if (!judged) return { lost: [], duplicated: [], unexpected: [], mismatch: [] };
      const full = judged.tally
        ? judged.tally.result(judged.drainComplete, true)
        : checkModel(judged.expected, kept, {
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
  options: Pick<ModelContractOptions<unknown>, 'outputsInMemory'> = {},
): Promise<ContractRun> {
  const m = await loadModel(spec, setup.baseDir, path);
  return createModelContractFrom(m, { ...options, path: `${path}.model` });
}
