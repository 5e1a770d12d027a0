/**
 * model: a pipeline's output compared, key by key, with what a model says it must be for the input that landed.
 *
 * Model (docs/checkers.md, "model"): `expected` maps each key to the values the model produces for it, in order;
 * `observed` is every decoded output record, in the order the harness read them. How a key's outputs are compared
 * (`compare`):
 * - `last` (default): the last observed value of each key must equal the model's last value for it (aggregates:
 *   intermediate updates are free, as Kafka Streams' own smoke test checks them);
 * - `once`: each key comes out exactly once, with the model's value;
 * - `sequence`: each key's outputs are the model's, in order (an output repeated is `duplicated`).
 * Anomalies: `lost` (an expected output never seen), `duplicated` (`once`: a key seen more than once; `sequence`: an
 * output repeated), `unexpected` (a key the model does not produce; `sequence`: an output after the key's last one),
 * `mismatch` (a value that differs from the model's). With an incomplete drain, `lost` and `mismatch` make the verdict
 * `unknown`, never `false` (the pipeline may still be catching up); `duplicated` and `unexpected` are `false` either way.
 */
import type { History } from '../history/index.ts';
import {
  type AnomalyName,
  type Checker,
  type CheckerResult,
  DEFAULT_MAX_EXAMPLES,
  resolveMaxExamples,
} from './types.ts';

export const MODEL_COMPARES = ['last', 'sequence', 'once'] as const;
export type ModelCompare = (typeof MODEL_COMPARES)[number];

/** One output as a model sees it: its key and its value. */
export interface ModelOutput<V = unknown> {
  readonly key: string;
  readonly value: V;
}

export interface ModelCheckOptions<V = unknown> {
  /** Default `last`. */
  readonly compare?: ModelCompare;
  /** Default {@link jsonEquals}. */
  readonly equals?: (expected: V, observed: V) => boolean;
  /** False when the drain gave up: missing outputs and mismatches are then `unknown`, not `false`. */
  readonly drainComplete?: boolean | undefined;
  /** Examples kept per anomaly. Default 20. */
  readonly maxExamples?: number;
  /** The checker's name in results (`model`; the attribution contract says `attribution`). */
  readonly name?: string;
}

export interface ModelLost {
  readonly key: string;
  readonly expected: unknown;
  /** `sequence`: the position of the missing output among the key's expected ones. */
  readonly index?: number;
}
export interface ModelDuplicated {
  readonly key: string;
  /** `once`: how many times the key came out. */
  readonly count?: number;
  /** `sequence`: the repeated value. */
  readonly value?: unknown;
}
export interface ModelUnexpected {
  readonly key: string;
  readonly observed: unknown;
  readonly reason: string;
}
export interface ModelMismatch {
  readonly key: string;
  readonly expected: unknown;
  readonly observed: unknown;
  readonly index?: number;
}

export interface ModelCounts {
  readonly expectedKeys: number;
  readonly expectedOutputs: number;
  readonly observedKeys: number;
  readonly observedOutputs: number;
  /** Keys (`last`, `once`) or outputs (`sequence`) equal to the model's. */
  readonly matched: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly unexpected: number;
  readonly mismatch: number;
  /** Set by the model contract: outputs its decode skipped (returned null). */
  readonly skipped?: number;
  /** Set by the model contract: input events whose latency was recorded. */
  readonly latencySamples?: number;
}

export interface ModelResult extends CheckerResult {
  readonly checker: string;
  readonly compare: ModelCompare;
  readonly counts: ModelCounts;
  readonly lost: readonly ModelLost[];
  readonly duplicated: readonly ModelDuplicated[];
  readonly unexpected: readonly ModelUnexpected[];
  readonly mismatch: readonly ModelMismatch[];
  /** Set by the model contract: how latency was measured, what decode skipped. */
  readonly notes?: readonly string[];
}

/** Deep equality of JSON values: objects by their defined members in any order, arrays in order. */
export function jsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const y = b as unknown[];
    return a.length === y.length && a.every((v, i) => jsonEquals(v, y[i]));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x).filter((k) => x[k] !== undefined);
  if (keys.length !== Object.keys(y).filter((k) => y[k] !== undefined).length) return false;
  return keys.every((k) => Object.hasOwn(y, k) && jsonEquals(x[k], y[k]));
}

class Findings {
  lost = 0;
  duplicated = 0;
  unexpected = 0;
  mismatch = 0;
  matched = 0;
  readonly lostEx: ModelLost[] = [];
  readonly duplicatedEx: ModelDuplicated[] = [];
  readonly unexpectedEx: ModelUnexpected[] = [];
  readonly mismatchEx: ModelMismatch[] = [];
  constructor(private readonly max: number) {}
  addLost(x: ModelLost): void {
    this.lost++;
    if (this.lostEx.length < this.max) this.lostEx.push(x);
  }
  addDuplicated(x: ModelDuplicated): void {
    this.duplicated++;
    if (this.duplicatedEx.length < this.max) this.duplicatedEx.push(x);
  }
  addUnexpected(x: ModelUnexpected): void {
    this.unexpected++;
    if (this.unexpectedEx.length < this.max) this.unexpectedEx.push(x);
  }
  addMismatch(x: ModelMismatch): void {
    this.mismatch++;
    if (this.mismatchEx.length < this.max) this.mismatchEx.push(x);
  }
}

/**
 * One key under `sequence`: walks the observed outputs against the expected ones. An output equal to the next
 * expected one matches; equal to one already passed, it is a repeat (`duplicated`); equal to a later one, the
 * outputs in between are `lost`; equal to none, it stands for the next expected one with a wrong value (`mismatch`),
 * or, past the last expected one, is `unexpected`. Expected outputs left at the end are `lost`.
 */
function alignSequence<V>(
  key: string,
  exp: readonly V[],
  obs: readonly V[],
  eq: (e: V, o: V) => boolean,
  f: Findings,
): void {
  let i = 0;
  for (const o of obs) {
    if (i < exp.length && eq(exp[i] as V, o)) {
      f.matched++;
      i++;
      continue;
    }
    let back = i - 1;
    while (back >= 0 && !eq(exp[back] as V, o)) back--;
    if (back >= 0) {
      f.addDuplicated({ key, value: o });
      continue;
    }
    let ahead = i + 1;
    while (ahead < exp.length && !eq(exp[ahead] as V, o)) ahead++;
    if (ahead < exp.length) {
      for (; i < ahead; i++) f.addLost({ key, expected: exp[i], index: i });
      f.matched++;
      i++;
      continue;
    }
    if (i < exp.length) {
      f.addMismatch({ key, expected: exp[i], observed: o, index: i });
      i++;
      continue;
    }
    f.addUnexpected({ key, observed: o, reason: "after the model's last output for the key" });
  }
  for (; i < exp.length; i++) f.addLost({ key, expected: exp[i], index: i });
}

/**
 * The comparison of observed outputs with the model's, accumulated over one or more disjoint sets of keys: a whole
 * run at once (`checkModel`), or a run judged bucket by bucket (each key's expected and observed outputs in the same
 * bucket; the model contract's out-of-memory path), whose counts and anomalies add up to the same result.
 */
export class ModelTally<V> {
  private readonly compare: ModelCompare;
  private readonly eq: (e: V, o: V) => boolean;
  private readonly f: Findings;
  private expectedKeys = 0;
  private expectedOutputs = 0;
  private observedKeys = 0;
  private observedOutputs = 0;

  /** `keep`: anomalies kept per kind (the result's examples are the first `maxExamples` of them). */
  constructor(private readonly options: ModelCheckOptions<V> & { readonly keep?: number } = {}) {
    const name = options.name ?? 'model';
    const max = resolveMaxExamples(options.maxExamples, `${name}.maxExamples`);
    this.compare = options.compare ?? 'last';
    this.eq = options.equals ?? jsonEquals;
    this.f = new Findings(Math.max(max, options.keep ?? 0));
  }

  /** Adds one set of keys: each key's expected outputs, and the observed outputs (of those keys) in reading order. */
  add(expected: ReadonlyMap<string, readonly V[]>, observed: Iterable<ModelOutput<V>>): void {
    const { compare, eq, f } = this;
    // Per observed key: `sequence` keeps its values in order; `last` and `once` keep only the first and last value
    // and a count, in parallel arrays indexed by the key's slot (no array per key: a run may hold millions of keys).
    const slotOf = new Map<string, number>();
    const lists: V[][] = [];
    const first: V[] = [];
    const last: V[] = [];
    const count: number[] = [];
    for (const o of observed) {
      this.observedOutputs++;
      const slot = slotOf.get(o.key);
      if (slot === undefined) {
        slotOf.set(o.key, count.length);
        count.push(1);
        if (compare === 'sequence') lists.push([o.value]);
        else {
          first.push(o.value);
          last.push(o.value);
        }
      } else {
        count[slot]!++;
        if (compare === 'sequence') lists[slot]!.push(o.value);
        else last[slot] = o.value;
      }
    }
    this.observedKeys += slotOf.size;
    for (const [key, slot] of slotOf) {
      const exp = expected.get(key) ?? [];
      if (exp.length === 0) {
        f.addUnexpected({
          key,
          observed: compare === 'sequence' ? lists[slot]![0] : first[slot],
          reason: 'a key the model does not produce',
        });
        continue;
      }
      if (compare === 'sequence') {
        alignSequence(key, exp, lists[slot]!, eq, f);
        continue;
      }
      const e = exp[exp.length - 1] as V;
      const o = (compare === 'last' ? last[slot] : first[slot]) as V;
      if (compare === 'once' && count[slot]! > 1) f.addDuplicated({ key, count: count[slot]! });
      if (eq(e, o)) f.matched++;
      else f.addMismatch({ key, expected: e, observed: o });
    }
    for (const [key, exp] of expected) {
      if (exp.length === 0) continue;
      this.expectedKeys++;
      this.expectedOutputs += exp.length;
      if (slotOf.has(key)) continue;
      if (compare === 'sequence')
        for (let index = 0; index < exp.length; index++) f.addLost({ key, expected: exp[index], index });
      else f.addLost({ key, expected: exp[exp.length - 1] });
    }
  }

  /** The result so far; `all` gives every anomaly kept (up to `keep`) instead of `maxExamples` of each. */
  result(drainComplete = this.options.drainComplete, all = false): ModelResult {
    const { f } = this;
    const name = this.options.name ?? 'model';
    const max = all ? Number.MAX_SAFE_INTEGER : (this.options.maxExamples ?? DEFAULT_MAX_EXAMPLES);
    const pending = drainComplete === false;
    const anomalyTypes: AnomalyName[] = [];
    if (f.lost && !pending) anomalyTypes.push('lost');
    if (f.duplicated) anomalyTypes.push('duplicated');
    if (f.unexpected) anomalyTypes.push('unexpected');
    if (f.mismatch && !pending) anomalyTypes.push('mismatch');
    const waiting = anomalyTypes.length === 0 && pending && f.lost + f.mismatch > 0;
    const empty = this.expectedOutputs === 0 && this.observedOutputs === 0;
    const reason = waiting
      ? `${f.lost} expected output(s) missing and ${f.mismatch} value(s) differing from the model, but the drain did not complete: the pipeline may still be catching up`
      : empty && anomalyTypes.length === 0
        ? 'the model expects no output for this input and none came: nothing was checked'
        : undefined;
    return {
      checker: name,
      valid: anomalyTypes.length > 0 ? false : reason ? 'unknown' : true,
      anomalyTypes,
      ...(reason ? { reason } : {}),
      compare: this.compare,
      counts: {
        expectedKeys: this.expectedKeys,
        expectedOutputs: this.expectedOutputs,
        observedKeys: this.observedKeys,
        observedOutputs: this.observedOutputs,
        matched: f.matched,
        lost: f.lost,
        duplicated: f.duplicated,
        unexpected: f.unexpected,
        mismatch: f.mismatch,
      },
      lost: f.lostEx.slice(0, max),
      duplicated: f.duplicatedEx.slice(0, max),
      unexpected: f.unexpectedEx.slice(0, max),
      mismatch: f.mismatchEx.slice(0, max),
    };
  }
}

/**
 * Compares observed outputs with the model's. `expected`: each key's outputs in the model's order (`last` and `once`
 * read the last one); `observed`: every decoded output in reading order.
 */
export function checkModel<V>(
  expected: ReadonlyMap<string, readonly V[]>,
  observed: Iterable<ModelOutput<V>>,
  options: ModelCheckOptions<V> = {},
): ModelResult {
  const tally = new ModelTally(options);
  tally.add(expected, observed);
  return tally.result();
}

/**
 * A checker over what a contract gathered (the model's outputs, the observed ones, whether the drain completed);
 * the history itself is not read. `data` returning undefined (the model never ran) gives `unknown`.
 */
export function model<V>(
  data: () =>
    | { expected: ReadonlyMap<string, readonly V[]>; observed: Iterable<ModelOutput<V>>; drainComplete?: boolean }
    | undefined,
  options: Omit<ModelCheckOptions<V>, 'drainComplete'> = {},
): Checker<ModelResult> {
  const name = options.name ?? 'model';
  resolveMaxExamples(options.maxExamples, `${name}.maxExamples`);
  return {
    name,
    check: (history: History) => {
      const d = data();
      if (d === undefined) {
        return {
          ...checkModel(new Map(), [], options),
          valid: 'unknown',
          reason: 'the model was not run over the input (the run stopped before the drain ended)',
        };
      }
      return checkModel(d.expected, d.observed, {
        ...options,
        drainComplete: d.drainComplete ?? history.drain?.complete,
      });
    },
  };
}
