/**
 * The space of fault schedules `streamproof explore` draws from: a scenario's `explore` block, checked once, or a
 * default space built from what the scenario's stack and SUT offer.
 *
 *   "explore": {
 *     "faults": { "min": 1, "max": 6 },
 *     "space": [
 *       { "kind": "pause", "target": "sut", "for": ["1s", "3s"] },
 *       { "kind": "latency", "target": ["sut->kafka", "sut->broker:1"], "latencyMs": [100, 500], "for": ["1s", "4s"] },
 *       { "kind": "kill", "target": "sut", "restartAfter": ["500ms", "2s"] }
 *     ]
 *   }
 *
 * Each entry of `space` is a fault as a scenario writes it, without `at` (always drawn, so the fault fits in the
 * load) and where any field may be a range `[low, high]` (numbers, or durations) or a choice `{ "oneOf": [...] }`;
 * `target` may also be a list (a choice). Entries are validated as faults at both ends of every range, so an error
 * names the field (`explore.space[1].latencyMs: ...`, exit 64).
 *
 * Schedules are drawn with fast-check from the run's seed: the same seed and scenario give the same schedules.
 */
import fc from 'fast-check';
import { FAULT_KINDS, type FaultKind, type FaultLimits, type FaultSpec, validateFault } from '../faults/index.ts';
import type { Scenario } from '../runner/scenario.ts';
import { sutComponents } from '../runner/scenario-sut.ts';
import { formatDuration, parseDuration } from '../util/duration.ts';
import { StreamproofError } from '../util/errors.ts';

/** Fields whose values are durations (ranges of them are drawn in ms). */
const DURATION_FIELDS = new Set(['for', 'restartAfter', 'syncTimeout']);

type FieldDraw =
  | { type: 'const'; value: unknown }
  | { type: 'choice'; values: readonly unknown[] }
  | { type: 'range'; lo: number; hi: number; duration: boolean };

/** One entry of the space: a fault kind, the targets it may hit, and how each other field is drawn. */
export interface FaultTemplate {
  readonly kind: FaultKind;
  readonly targets: readonly string[];
  readonly fields: Readonly<Record<string, FieldDraw>>;
}

export interface ExploreSpace {
  readonly min: number;
  readonly max: number;
  readonly templates: readonly FaultTemplate[];
  /** `scenario` when the scenario's `explore` block gave it, `default` when built from the stack and the SUT. */
  readonly source: 'scenario' | 'default';
}

/**
 * The default space: SUT pause and kill, latency, reset and partition on the SUT's path; on 3 brokers also broker
 * kills and partitions, and faults aimed at Kafka's roles (the input's leader, the controller, the group coordinator,
 * a leader move).
 */
export function defaultSpaceEntries(sc: Scenario): Record<string, unknown>[] {
  const entries: Record<string, unknown>[] = [
    { kind: 'pause', target: 'sut', for: ['1s', '4s'] },
    { kind: 'kill', target: 'sut', restartAfter: ['500ms', '3s'] },
    { kind: 'latency', target: 'sut->kafka', latencyMs: [50, 800], for: ['1s', '5s'] },
    { kind: 'reset_peer', target: 'sut->kafka', for: ['500ms', '2s'] },
    { kind: 'partition', target: 'sut->kafka', for: ['1s', '4s'] },
  ];
  if (sc.stack.brokers === 3) {
    const ids = [1, 2, 3];
    const leader = `leader:${sc.topics.input}/0`;
    entries.push(
      { kind: 'kill', target: ids.map((i) => `broker:${i}`), restartAfter: ['2s', '6s'] },
      { kind: 'partition', target: ids.map((i) => `sut->broker:${i}`), for: ['1s', '4s'] },
      // Kafka's roles, resolved when the fault starts: the input's first leader, the controller, the group coordinator.
      { kind: 'kill', target: [leader, 'controller', 'group-coordinator'], restartAfter: ['2s', '6s'] },
      { kind: 'partition', target: [`sut->${leader}`, 'sut->group-coordinator'], for: ['1s', '4s'] },
    );
    if (sc.stack.replicationFactor >= 2) entries.push({ kind: 'leader-move', target: leader, for: ['2s', '6s'] });
  }
  return entries;
}

/** The space of a scenario: its raw `explore` block (validated, paths `explore.*`) or the default space. */
export function exploreSpace(rawExplore: unknown, sc: Scenario): ExploreSpace {
  const path = 'explore';
  if (rawExplore !== undefined && !isObject(rawExplore)) fail(path, 'an object { "faults"?, "space"? }', rawExplore);
  const o = (rawExplore ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== 'faults' && k !== 'space') fail(`${path}.${k}`, 'one of the fields faults, space', k);
  }
  const f = (o.faults ?? {}) as Record<string, unknown>;
  if (!isObject(f)) fail(`${path}.faults`, 'an object { "min"?, "max"? }', o.faults);
  for (const k of Object.keys(f)) if (k !== 'min' && k !== 'max') fail(`${path}.faults.${k}`, 'min or max', k);
  const min = count(f.min, `${path}.faults.min`, 1);
  const max = count(f.max, `${path}.faults.max`, Math.max(min, 4));
  if (max < min) fail(`${path}.faults.max`, `an integer >= faults.min (${min})`, max);
  const fromScenario = o.space !== undefined;
  if (fromScenario && (!Array.isArray(o.space) || o.space.length === 0)) {
    fail(`${path}.space`, 'a non-empty list of fault templates', o.space);
  }
  const entries = fromScenario ? (o.space as unknown[]) : defaultSpaceEntries(sc);
  const topic = { partitions: sc.stack.partitions, replicationFactor: sc.stack.replicationFactor };
  const limits: FaultLimits = {
    brokers: sc.stack.brokers,
    sutInstances: sc.sut.instances,
    sutComponents: sutComponents(sc.sut.command),
    topics: { [sc.topics.input]: topic, [sc.topics.output]: topic },
  };
  const templates = entries.map((e, i) => template(e, `${path}.space[${i}]`, limits, sc.load.durationMs));
  return { min, max, templates, source: fromScenario ? 'scenario' : 'default' };
}

function template(raw: unknown, path: string, limits: FaultLimits, loadMs: number): FaultTemplate {
  if (!isObject(raw))
    fail(path, 'a fault without "at", e.g. { "kind": "pause", "target": "sut", "for": ["1s", "3s"] }', raw);
  const o = raw as Record<string, unknown>;
  if (!(FAULT_KINDS as readonly unknown[]).includes(o.kind)) {
    fail(`${path}.kind`, `one of ${FAULT_KINDS.map((k) => `"${k}"`).join(', ')}`, o.kind);
  }
  if (o.at !== undefined) fail(`${path}.at`, 'no "at": exploration draws every start time', o.at);
  const targets = Array.isArray(o.target) ? o.target : [o.target];
  if (targets.length === 0) fail(`${path}.target`, 'a target or a non-empty list of targets', o.target);
  const fields: Record<string, FieldDraw> = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === 'kind' || k === 'target' || k === 'name') continue;
    fields[k] = fieldDraw(v, `${path}.${k}`, DURATION_FIELDS.has(k));
  }
  const t: FaultTemplate = { kind: o.kind as FaultKind, targets: targets as string[], fields };
  // Every corner that matters is a fault a scenario could hold: each target with the low and the high ends.
  for (const target of targets) {
    for (const end of ['lo', 'hi'] as const) {
      const spec = instantiate(t, 0, target as string, (k) => pick(t.fields[k]!, end));
      validateFault(spec, path, limits);
      const forMs = lastingMs(spec);
      if (forMs !== undefined && forMs >= loadMs) {
        fail(
          `${path}.${spec.kind === 'kill' ? 'restartAfter' : 'for'}`,
          `a duration shorter than the load (${formatDuration(loadMs)})`,
          forMs,
        );
      }
    }
  }
  return t;
}

function fieldDraw(v: unknown, path: string, duration: boolean): FieldDraw {
  if (isObject(v) && 'oneOf' in v) {
    const values = (v as { oneOf: unknown }).oneOf;
    if (!Array.isArray(values) || values.length === 0) fail(`${path}.oneOf`, 'a non-empty list of values', values);
    return { type: 'choice', values };
  }
  if (Array.isArray(v)) {
    if (v.length !== 2) fail(path, 'a range [low, high] (two values)', v);
    const [lo, hi] = duration
      ? [parseDuration(v[0], `${path}[0]`), parseDuration(v[1], `${path}[1]`)]
      : [v[0] as number, v[1] as number];
    if (!duration && (!Number.isInteger(lo) || !Number.isInteger(hi))) fail(path, 'a range of two integers', v);
    if (lo > hi) fail(`${path}[1]`, `a value >= the low end (${String(v[0])})`, v[1]);
    return { type: 'range', lo, hi, duration };
  }
  return { type: 'const', value: v };
}

function pick(d: FieldDraw, end: 'lo' | 'hi'): unknown {
  if (d.type === 'const') return d.value;
  if (d.type === 'choice') return d.values[end === 'lo' ? 0 : d.values.length - 1];
  const n = end === 'lo' ? d.lo : d.hi;
  return d.duration ? `${Math.round(n)}ms` : n;
}

function instantiate(t: FaultTemplate, atMs: number, target: string, value: (field: string) => unknown): FaultSpec {
  const spec: Record<string, unknown> = { at: `${atMs}ms`, kind: t.kind, target };
  for (const k of Object.keys(t.fields)) spec[k] = value(k);
  return spec as unknown as FaultSpec;
}

/** How long a fault holds (ms), when it says: `for`, or a kill's `restartAfter`. */
export function lastingMs(spec: FaultSpec): number | undefined {
  const raw = (spec as { for?: unknown }).for ?? (spec as { restartAfter?: unknown }).restartAfter;
  return raw === undefined ? undefined : parseDuration(raw, 'for');
}

/** One fault drawn from a template, starting within the load so that it also ends within it. */
function faultArbitrary(t: FaultTemplate, loadMs: number): fc.Arbitrary<{ at: number; spec: FaultSpec }> {
  const keys = Object.keys(t.fields);
  const fields = keys.map((k): fc.Arbitrary<unknown> => {
    const d = t.fields[k]!;
    if (d.type === 'const') return fc.constant(d.value);
    if (d.type === 'choice') return fc.constantFrom(...d.values);
    return fc.integer({ min: Math.ceil(d.lo), max: Math.floor(d.hi) }).map((n) => (d.duration ? `${n}ms` : n));
  });
  return fc
    .tuple(
      fc.constantFrom(...t.targets),
      fc.tuple(...fields),
      // Where in the load it starts, in millionths of the room it has; uniform (fast-check favours the edges
      // otherwise, and fc.double is uniform over representations, not values: most faults would start at 0).
      fc.noBias(fc.integer({ min: 0, max: 999_999 })),
    )
    .map(([target, values, u]) => {
      const spec = instantiate(t, 0, target, (k) => values[keys.indexOf(k)]);
      const span = Math.max(0, loadMs - (lastingMs(spec) ?? 0));
      const at = Math.floor((u / 1_000_000) * span);
      return { at, spec: { ...spec, at: `${at}ms` } as FaultSpec };
    });
}

/** A schedule: between `min` and `max` faults drawn from the space, in start order, each named `f<i>-<kind>`. */
export function scheduleArbitrary(space: ExploreSpace, loadMs: number): fc.Arbitrary<FaultSpec[]> {
  const one = fc.oneof(...space.templates.map((t) => faultArbitrary(t, loadMs)));
  return fc
    .array(one, { minLength: space.min, maxLength: space.max })
    .map((faults) =>
      faults
        .sort((a, b) => a.at - b.at)
        .map(({ spec }, i) => ({ ...spec, name: `f${i + 1}-${spec.kind}` }) as FaultSpec),
    );
}

/** `runs` schedules drawn from `seed`: the same seed, scenario and space give the same list. */
export function drawSchedules(space: ExploreSpace, loadMs: number, seed: number, runs: number): FaultSpec[][] {
  return fc.sample(scheduleArbitrary(space, loadMs), { seed: seed | 0, numRuns: runs });
}

function count(v: unknown, path: string, def: number): number {
  if (v === undefined) return def;
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 50) fail(path, 'an integer from 0 to 50', v);
  return v as number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(path: string, what: string, got: unknown): never {
  throw new StreamproofError('INVALID_SCENARIO', `${path}: expected ${what}, got ${JSON.stringify(got)}`, { path });
}
