/**
 * Validation of fault specs as scenarios write them: once, up front, with errors that name the exact field
 * (`faults[1].latencyMs: expected a non-negative integer, got "x"`). Unknown fields are rejected, so a typo
 * (`latency` for `latencyMs`) is an error instead of a silently default fault.
 */

import { compatibilityLevels as COMPATIBILITY_LEVELS } from '../registry/client.ts';
import { parseDuration } from '../util/duration.ts';
import { StreamproofError } from '../util/errors.ts';
import { looksLikeRole } from './role-targets.ts';
import {
  CLUSTER_KINDS,
  FAULT_KINDS,
  type FaultKind,
  type FaultSpec,
  NETWORK_KINDS,
  parseTarget,
  TOXIC_STREAMS,
} from './spec.ts';
import { type RoleLimits, roleTarget } from './validate-roles.ts';

/** What the stack offers, when known: targets outside it are rejected at validation instead of mid-run. */
export interface FaultLimits {
  /** Broker ids (or their count n: ids 1..n). */
  brokers?: number | readonly number[];
  /** Number of SUT instances (instances are 0..n-1). */
  sutInstances?: number;
  /**
   * The SUT's components a process fault may target as `sut:<name>` besides its instances: `["collector", "lake"]`
   * for the reference SUT, `[]` for a SUT without any (then every `sut:<name>` is refused). Unknown when omitted.
   */
  sutComponents?: readonly string[];
  /** The scenario's topics (as written): role targets `leader:<topic>/<p>` on them are checked (validate-roles.ts). */
  topics?: RoleLimits['topics'];
}

type FieldCheck = (value: unknown, path: string) => void;

const COMMON = ['at', 'kind', 'target', 'name'] as const;

/** Per kind: the fields it takes beyond `at, kind, target, name`, each with its check; required ones first. */
const FIELDS: Record<FaultKind, { required: Record<string, FieldCheck>; optional: Record<string, FieldCheck> }> = {
  latency: toxic({ latencyMs: nonNegativeInt }, { jitterMs: nonNegativeInt }),
  bandwidth: toxic({ rateKBps: positiveInt }, {}),
  slow_close: toxic({ delayMs: nonNegativeInt }, {}),
  timeout: toxic({}, { timeoutMs: nonNegativeInt }),
  reset_peer: toxic({}, { timeoutMs: nonNegativeInt }),
  slicer: toxic({ averageSize: positiveInt }, { sizeVariation: nonNegativeInt, delayUs: nonNegativeInt }),
  limit_data: toxic({ bytes: nonNegativeInt }, {}),
  partition: { required: { for: duration }, optional: {} },
  kill: { required: {}, optional: { restartAfter: duration, for: duration } },
  pause: { required: { for: duration }, optional: {} },
  restart: { required: {}, optional: { for: duration } },
  'rolling-restart': { required: {}, optional: { for: duration, syncTimeout: positiveDuration } },
  fence: { required: {}, optional: { transactionalId } },
  rebalance: { required: { for: positiveDuration }, optional: {} },
  'schema-upgrade': { required: { to: schemaVersion }, optional: { schema: schemaFile, compatibility: level } },
  'leader-move': { required: { for: positiveDuration }, optional: {} },
};

function toxic(
  required: Record<string, FieldCheck>,
  optional: Record<string, FieldCheck>,
): { required: Record<string, FieldCheck>; optional: Record<string, FieldCheck> } {
  return { required: { for: duration, ...required }, optional: { stream, toxicity: fraction, ...optional } };
}

/**
 * Checks one fault as a scenario wrote it and returns it typed. Throws StreamproofError `INVALID_SCENARIO` whose
 * message starts with the path of the bad field, e.g. `faults[1].latencyMs: expected ...`.
 */
export function validateFault(raw: unknown, path: string, limits: FaultLimits = {}): FaultSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    fail(path, 'an object like { "at": "10s", "for": "3s", "kind": "latency", ... }', raw);
  }
  const o = raw as Record<string, unknown>;
  if (!(FAULT_KINDS as readonly unknown[]).includes(o.kind)) {
    fail(`${path}.kind`, `one of ${FAULT_KINDS.map((k) => `"${k}"`).join(', ')}`, o.kind);
  }
  const kind = o.kind as FaultKind;
  const fields = FIELDS[kind];
  const allowed = [...COMMON, ...Object.keys(fields.required), ...Object.keys(fields.optional)];
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) {
      throw new StreamproofError(
        'INVALID_SCENARIO',
        `${path}.${key}: unknown field for a ${kind} fault (it takes ${allowed.join(', ')})`,
        { path: `${path}.${key}` },
      );
    }
  }

  at(o.at, `${path}.at`);
  target(kind, o.target, `${path}.target`, limits);
  if (o.name !== undefined) name(o.name, `${path}.name`);
  for (const [field, check] of Object.entries(fields.required)) {
    if (o[field] === undefined) fail(`${path}.${field}`, requiredWhat(kind, field), undefined);
    check(o[field], `${path}.${field}`);
  }
  for (const [field, check] of Object.entries(fields.optional)) {
    if (o[field] !== undefined) check(o[field], `${path}.${field}`);
  }
  if (kind === 'kill' && o.for !== undefined && o.restartAfter !== undefined) {
    throw new StreamproofError(
      'INVALID_SCENARIO',
      `${path}.restartAfter: a kill takes either "for" or "restartAfter" (synonyms), not both`,
      { path: `${path}.restartAfter` },
    );
  }
  if (kind === 'fence' && o.transactionalId !== undefined && o.target !== 'sut') {
    fail(`${path}.target`, '"sut" for a fence fault that names its transactionalId', o.target);
  }
  if (kind === 'slicer' && o.sizeVariation !== undefined && (o.sizeVariation as number) >= (o.averageSize as number)) {
    fail(`${path}.sizeVariation`, `an integer smaller than averageSize (${o.averageSize})`, o.sizeVariation);
  }
  if (kind === 'schema-upgrade' && o.target === undefined) return { ...o, target: 'load' } as unknown as FaultSpec;
  return o as unknown as FaultSpec;
}

/**
 * Checks a scenario's `faults` list: each fault (paths `faults[i]`), and that names are unique (a name is the
 * fault's id in the history).
 */
export function validateFaults(raw: unknown, path = 'faults', limits: FaultLimits = {}): FaultSpec[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) fail(path, 'a list of faults', raw);
  const specs = raw.map((f, i) => validateFault(f, `${path}[${i}]`, limits));
  const seen = new Map<string, number>();
  specs.forEach((s, i) => {
    if (s.name === undefined) return;
    const prev = seen.get(s.name);
    if (prev !== undefined) {
      fail(`${path}[${i}].name`, `a name not used by another fault (${path}[${prev}] is also "${s.name}")`, s.name);
    }
    seen.set(s.name, i);
  });
  return specs;
}

function requiredWhat(kind: FaultKind, field: string): string {
  if (field === 'to') return 'the schema version the load switches to: 1, 2 or 3';
  if (field === 'for') {
    return kind === 'pause'
      ? 'a duration like "3s" (how long the process stays paused)'
      : kind === 'rebalance'
        ? 'a duration like "5s" (how long the harness member stays in the group)'
        : `a duration like "3s" (how long the ${kind} fault lasts; network faults always end)`;
  }
  return kind === 'bandwidth' || kind === 'slicer' ? 'a positive integer' : 'a non-negative integer';
}

function at(value: unknown, path: string): void {
  if (value === 'random') return;
  if (value === undefined) fail(path, 'a duration from the start of the load like "10s", or "random"', value);
  duration(value, path);
}

function duration(value: unknown, path: string): void {
  parseDuration(value, path, 'INVALID_SCENARIO');
}

function target(kind: FaultKind, value: unknown, path: string, limits: FaultLimits): void {
  if (kind === 'schema-upgrade') {
    if (value !== undefined && value !== 'load')
      fail(path, '"load" or nothing (a schema upgrade acts on the load)', value);
    return;
  }
  if (kind === 'fence' || kind === 'rebalance') {
    groupTarget(kind, value, path, limits);
    return;
  }
  if (kind === 'leader-move' || (typeof value === 'string' && looksLikeRole(value))) {
    roleTarget(kind, value, path, limits);
    return;
  }
  const network = (NETWORK_KINDS as readonly string[]).includes(kind);
  const cluster = (CLUSTER_KINDS as readonly string[]).includes(kind);
  const type = network ? 'connection' : cluster ? 'cluster' : 'process';
  const what = network
    ? `a connection target ("sut->kafka" or "sut->broker:N") for a ${kind} fault`
    : cluster
      ? `"brokers" (every broker in turn) for a ${kind} fault`
      : `a process target ("sut", "sut:I" or "broker:N") for a ${kind} fault`;
  const parsed = typeof value === 'string' ? parseTarget(value) : undefined;
  if (!parsed || parsed.type !== type) fail(path, what, value);
  if (parsed.type === 'cluster') return;
  const brokerId = parsed.type === 'connection' ? parsed.brokerId : parsed.role === 'broker' ? parsed.id : undefined;
  if (typeof brokerId === 'number') {
    const ids = brokerIdsOf(limits.brokers);
    if (brokerId < 1) fail(path, 'a broker id from 1 (brokers are numbered 1..n)', value);
    if (ids && !ids.includes(brokerId)) fail(path, `a broker of this stack (${ids.join(', ')})`, value);
  }
  if (parsed.type === 'process' && 'component' in parsed) {
    const names = limits.sutComponents;
    if (names !== undefined && !names.includes(parsed.component)) {
      fail(
        path,
        names.length === 0
          ? `"sut", "sut:I" or "broker:N" (component targets, "sut:collector" and "sut:lake", are for sut.command "reference" only)`
          : `a component of this SUT (${names.map((n) => `"sut:${n}"`).join(', ')}), "sut", "sut:I" or "broker:N"`,
        value,
      );
    }
  }
  if (parsed.type === 'process' && 'instance' in parsed && typeof parsed.instance === 'number') {
    const n = limits.sutInstances;
    if (n !== undefined && parsed.instance >= n) {
      fail(path, `a SUT instance from sut:0 to sut:${n - 1} (instances are 0-based)`, value);
    }
  }
}

/** `fence`: "sut" (every transactional id of the SUT) or "sut:I"; `rebalance`: "sut" (its consumer group). */
function groupTarget(kind: 'fence' | 'rebalance', value: unknown, path: string, limits: FaultLimits): void {
  const parsed = typeof value === 'string' ? parseTarget(value) : undefined;
  const instance = parsed?.type === 'process' && 'instance' in parsed ? parsed.instance : undefined;
  if (kind === 'rebalance' && instance !== 'all')
    fail(path, '"sut" (the SUT\'s consumer group) for a rebalance fault', value);
  if (instance === undefined) {
    fail(path, '"sut" (every transactional id of the SUT) or "sut:I" (instance I\'s) for a fence fault', value);
  }
  const n = limits.sutInstances;
  if (typeof instance === 'number' && n !== undefined && instance >= n) {
    fail(path, `a SUT instance from sut:0 to sut:${n - 1} (instances are 0-based)`, value);
  }
}

function transactionalId(value: unknown, path: string): void {
  // Kafka takes any non-empty string; control characters would only hide in reports.
  if (typeof value !== 'string' || value.length === 0 || value.length > 249 || [...value].some((ch) => ch < ' ')) {
    fail(path, 'a transactional id (a non-empty string of at most 249 printable characters)', value);
  }
}

function schemaVersion(value: unknown, path: string): void {
  if (value !== 1 && value !== 2 && value !== 3) fail(path, 'a schema version of the input events: 1, 2 or 3', value);
}

function schemaFile(value: unknown, path: string): void {
  // Read and checked as Avro where the scenario's directory is known (loadScenario, and the runner's schema hook).
  if (typeof value !== 'string' || !/\.(avsc|json)$/.test(value)) {
    fail(path, 'the path of an Avro schema file (".avsc" or ".json", relative to the scenario)', value);
  }
}

function level(value: unknown, path: string): void {
  if (!(COMPATIBILITY_LEVELS as readonly unknown[]).includes(value)) {
    fail(path, COMPATIBILITY_LEVELS.map((l) => `"${l}"`).join(', '), value);
  }
}

function brokerIdsOf(brokers: FaultLimits['brokers']): readonly number[] | undefined {
  if (brokers === undefined) return undefined;
  if (typeof brokers === 'number') return Array.from({ length: brokers }, (_, i) => i + 1);
  return brokers;
}

function name(value: unknown, path: string): void {
  // Names become history ids: keep them short and plain so they never look like a positional id (`faults[2]`).
  if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/.test(value)) {
    fail(path, 'a name of letters, digits, "_", ".", ":", "-" (at most 64, starting with a letter or digit)', value);
  }
}

function positiveDuration(value: unknown, path: string): void {
  if (parseDuration(value, path, 'INVALID_SCENARIO') <= 0) fail(path, 'a duration longer than 0 like "120s"', value);
}

function nonNegativeInt(value: unknown, path: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    fail(path, 'a non-negative integer', value);
  }
}

function positiveInt(value: unknown, path: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) fail(path, 'a positive integer', value);
}

function fraction(value: unknown, path: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    fail(path, 'a number from 0 to 1 (the fraction of connections affected)', value);
  }
}

function stream(value: unknown, path: string): void {
  if (!(TOXIC_STREAMS as readonly unknown[]).includes(value)) {
    fail(path, TOXIC_STREAMS.map((s) => `"${s}"`).join(', '), value);
  }
}

function fail(path: string, expected: string, got: unknown): never {
  throw new StreamproofError('INVALID_SCENARIO', `${path}: expected ${expected}, got ${show(got)}`, { path });
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return JSON.stringify(value) ?? String(value);
}
