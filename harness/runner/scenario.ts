/**
 * Scenarios: plain typed data (stack + SUT + events + load + faults + SLOs), validated once into a resolved form
 * with every default filled in. Errors name the path (`faults[2].at: expected a duration like "10s"`), exit 64.
 *
 * A scenario is written as JSON or as a `.ts` file whose default export is `defineScenario({...})`.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type BadEvents, type BadEventsOptions, resolveBadEvents } from '../../generators/bad-slots.ts';
import { parseThresholds, type SloSpec } from '../checkers/threshold.ts';
import type { DlqSpec } from '../contracts/dlq.ts';
import { type LakeOutputSpec, validateLakeOutput } from '../contracts/lake-spec.ts';
import type { LineageSpec } from '../contracts/lineage-spec.ts';
import { type FaultSpec, validateFault } from '../faults/index.ts';
import { parseDuration } from '../util/duration.ts';
import { StreamproofError } from '../util/errors.ts';
import { importModule } from '../util/import-module.ts';
import type { ReadyStrategy } from './ready.ts';
import * as ext from './scenario-external.ts';
import { type ContractName, sutComponents, validateSut } from './scenario-sut.ts';
import { readUpgradeSchemas, validateSchemaUpgrades } from './schema-upgrade.ts';
import { arr, bool, fail, int, num, obj, str } from './validate.ts';

export { CONTRACTS, type ContractName, validateReady } from './scenario-sut.ts';
/** The contract's name (ContractName). */
export type Contract = ContractName;
export type Duration = string | number;

/** What a scenario author writes. Durations are strings like "20s" or milliseconds. */
export interface ScenarioInput {
  name: string;
  description?: string;
  sut: {
    /** A shell command run with the SUT env contract, or "reference" for the bundled attribution pipeline. */
    command: string;
    /** "copy", "lineage", "attribution", or { "model": "./my-model.ts" } (docs/your-pipeline.md). */
    contract: 'copy' | 'lineage' | 'attribution' | { model: string };
    /** With `lineage`: `{ "id": "field:event_id", "expect"?: { "where": {...} } | "./expected.ts" }`. */
    lineage?: { id: string; expect?: { where: Record<string, (string | number | boolean | null)[]> } | string };
    /** Where the pipeline dead-letters: `{ "topic": "events.dlq", "reason": "header:<name>" }`. */
    dlq?: { topic: string; reason: string };
    instances?: number;
    env?: Record<string, string>;
    cwd?: string;
    /**
     * How to know the SUT is ready (harness/runner/ready.ts): "group" (default: its consumer group is Stable and owns
     * every input partition), "none", { log: "<regex>" } (a line of every instance's log matches), { http: "<url>" }
     * (answers 2xx), { tcp: 8080 } or { tcp: "127.0.0.1:8080" } (accepts a connection).
     */
    ready?: ReadyStrategy;
    readyTimeout?: Duration;
    /**
     * When the SUT starts: "before-load" (default: started and ready before the first event) or "after-load" (over
     * a preloaded input, as Kafka's own system tests run their copiers; fault times then count from its start).
     */
    start?: 'before-load' | 'after-load';
  };
  stack?: { brokers?: 1 | 3; partitions?: number; replicationFactor?: number; registry?: boolean } & {
    /** A cluster of your own instead of a local stack (scenario-external.ts, docs/external-clusters.md). */
    external?: ext.ExternalClusterInput;
  } & { runtime?: 'local' | 'testcontainers'; images?: ext.StackPlacement['images'] };
  topics?: { input?: string; output?: string };
  events?: {
    format?: 'json' | 'avro';
    users?: number;
    seed?: number;
    schemaVersion?: 1 | 2 | 3;
    /** A seeded fraction of the load's events replaced by bad ones (the `badEvent` arbitrary's kinds). */
    bad?: BadEventsOptions;
  };
  /** Where else the output lands: a lake the harness reads after the drain (docs/lake.md). */
  output?: { lake?: Partial<LakeOutputSpec> & { path: string } };
  load: {
    rate?: number;
    duration?: Duration;
    /** Ramp, steady, spike: each stage a duration and a rate, or a linear ramp from one rate to another. */
    stages?: { duration: Duration; rate?: number; from?: number; to?: number }[];
    producers?: number;
    acksTimeout?: Duration;
    /** Load worker processes (harness/workers, docs/workers.md), each offering the partitions p % workers. Default 1. */
    workers?: number;
    /** How long to wait for every worker to be ready, and for their results after the drain. Default "60s". */
    workerTimeout?: Duration;
    /** "kafka" (default): produce to the input topic. "http": POST NDJSON batches to the collector (docs/load.md). */
    via?: 'kafka' | 'http';
    /** HTTP: events per request (default 50), connections (default 4, each a slice of the users). */
    batch?: number;
    connections?: number;
    /** HTTP: the ingest URL (127.0.0.1); default the reference collector's `/v1/events`. */
    target?: string;
    /** HTTP: bearer token sent (and, for the reference SUT, required by its collector). */
    token?: string;
  };
  faults?: Record<string, unknown>[];
  /** What `streamproof explore` may draw: `{ faults?: { min, max }, space?: [fault templates] }` (docs/explore.md). */
  explore?: { faults?: { min?: number; max?: number }; space?: Record<string, unknown>[] };
  slo?: SloSpec;
  drain?: { quiet?: Duration; timeout?: Duration };
}

export interface Stage {
  durationMs: number;
  /** Rate at the start and at the end of the stage (equal for a steady stage). */
  from: number;
  to: number;
}

export interface Scenario {
  name: string;
  description: string;
  sut: {
    command: string;
    contract: ContractName;
    /** For `contract: { "model": path }`: the module path as written. */
    model: string | undefined;
    lineage: LineageSpec | undefined;
    dlq: DlqSpec | undefined;
    instances: number;
    env: Record<string, string>;
    cwd: string | undefined;
    ready: ReadyStrategy;
    readyTimeoutMs: number;
    start: 'before-load' | 'after-load';
  };
  stack: {
    brokers: 1 | 3;
    partitions: number;
    replicationFactor: number;
    registry: boolean;
    external?: ext.ExternalCluster;
  } & ext.StackPlacement;
  topics: { input: string; output: string };
  events: {
    format: 'json' | 'avro';
    users: number;
    seed: number;
    schemaVersion: 1 | 2 | 3;
    bad: BadEvents | undefined;
  };
  output: { lake: LakeOutputSpec | undefined };
  load: {
    stages: Stage[];
    durationMs: number;
    producers: number;
    acksTimeoutMs: number;
    /** The Kafka sender: @platformatic/kafka's producer (default) or the fast sender (docs/load.md). */
    client: 'platformatic' | 'fast';
    /** Produce requests in flight per producer (1..5; above 1 only with the fast sender). */
    inFlightRequests: number;
    workers: number;
    workerTimeoutMs: number;
    via: 'kafka' | 'http';
    /** Set when `via` is "http". */
    http: HttpLoadSpec | undefined;
  };
  faults: FaultSpec[];
  slo: SloSpec;
  drain: { quietMs: number; timeoutMs: number };
}

export interface HttpLoadSpec {
  batch: number;
  connections: number;
  /** undefined: the reference collector of the run. */
  target: string | undefined;
  token: string | undefined;
}

export function defineScenario(s: ScenarioInput): ScenarioInput {
  return s;
}

const TOPIC = /^[a-zA-Z0-9._-]{1,200}$/;

export function validateScenario(raw: unknown, path = 'scenario'): Scenario {
  const o = obj(raw, path, [
    'name',
    'description',
    'sut',
    'stack',
    'topics',
    'events',
    'load',
    'faults',
    'slo',
    'drain',
    'output',
    // The space `streamproof explore` draws schedules from (harness/explore/space.ts checks it); a run ignores it.
    'explore',
    '$schema',
  ]);
  const name = str(o.name, `${path}.name`, { pattern: /^[a-zA-Z0-9._-]+$/ });

  const sut = validateSut(o.sut, `${path}.sut`);

  const st = obj(o.stack ?? {}, `${path}.stack`, [
    'brokers',
    'partitions',
    'replicationFactor',
    'registry',
    'external',
    'runtime',
    'images',
  ]);
  const brokers = int(st.brokers, `${path}.stack.brokers`, { oneOf: [1, 3], def: 1 }) as 1 | 3;
  const stack = {
    brokers,
    partitions: int(st.partitions, `${path}.stack.partitions`, { min: 1, max: 1000, def: 6 }),
    replicationFactor: int(st.replicationFactor, `${path}.stack.replicationFactor`, {
      min: 1,
      max: brokers,
      def: brokers,
    }),
    registry: bool(st.registry, `${path}.stack.registry`, true),
    ...ext.externalOf(st.external, `${path}.stack.external`),
    ...ext.placementOf(st, `${path}.stack`),
  };

  const t = obj(o.topics ?? {}, `${path}.topics`, ['input', 'output']);
  const topics = {
    input: t.input === undefined ? 'events' : str(t.input, `${path}.topics.input`, { pattern: TOPIC }),
    output:
      t.output === undefined
        ? sut.contract === 'attribution'
          ? 'attributions'
          : 'events-out'
        : str(t.output, `${path}.topics.output`, { pattern: TOPIC }),
  };
  if (topics.input === topics.output)
    fail(`${path}.topics.output`, 'a topic other than the input topic', topics.output);

  const ev = obj(o.events ?? {}, `${path}.events`, ['format', 'users', 'seed', 'schemaVersion', 'bad']);
  const events = {
    format: (ev.format === undefined ? 'json' : str(ev.format, `${path}.events.format`, { oneOf: ['json', 'avro'] })) as
      | 'json'
      | 'avro',
    users: int(ev.users, `${path}.events.users`, { min: 1, max: 10_000_000, def: 1000 }),
    seed: int(ev.seed, `${path}.events.seed`, { min: 0, max: Number.MAX_SAFE_INTEGER, def: 1 }),
    schemaVersion: int(ev.schemaVersion, `${path}.events.schemaVersion`, { oneOf: [1, 2, 3], def: 3 }) as 1 | 2 | 3,
    bad: undefined as BadEvents | undefined,
  };
  if (events.format === 'avro' && !stack.registry)
    fail(`${path}.stack.registry`, 'true when events.format is "avro"', false);

  const l = obj(o.load, `${path}.load`, [
    'rate',
    'duration',
    'stages',
    'producers',
    'acksTimeout',
    'workers',
    'workerTimeout',
    'via',
    'batch',
    'connections',
    'target',
    'token',
    'client',
    'inFlightRequests',
  ]);
  let stages: Stage[];
  if (l.stages !== undefined) {
    if (l.rate !== undefined || l.duration !== undefined)
      fail(`${path}.load`, 'either rate + duration or stages, not both', Object.keys(l));
    stages = arr(l.stages, `${path}.load.stages`).map((raw, i) => {
      const p = `${path}.load.stages[${i}]`;
      const so = obj(raw, p, ['duration', 'rate', 'from', 'to']);
      const durationMs = parseDuration(so.duration, `${p}.duration`);
      if (so.rate !== undefined) {
        if (so.from !== undefined || so.to !== undefined) fail(p, 'either rate or from + to', Object.keys(so));
        const r = num(so.rate, `${p}.rate`, { min: 0 });
        return { durationMs, from: r, to: r };
      }
      return { durationMs, from: num(so.from, `${p}.from`, { min: 0 }), to: num(so.to, `${p}.to`, { min: 0 }) };
    });
    if (stages.length === 0) fail(`${path}.load.stages`, 'at least one stage', []);
  } else {
    const rate = num(l.rate, `${path}.load.rate`, { min: 0, exclusiveMin: true });
    stages = [{ durationMs: parseDuration(l.duration, `${path}.load.duration`), from: rate, to: rate }];
  }
  const load = {
    stages,
    durationMs: stages.reduce((a, st2) => a + st2.durationMs, 0),
    producers: int(l.producers, `${path}.load.producers`, { min: 1, max: 64, def: 1 }),
    acksTimeoutMs: l.acksTimeout === undefined ? 30_000 : parseDuration(l.acksTimeout, `${path}.load.acksTimeout`),
    client: (l.client === undefined
      ? 'platformatic'
      : str(l.client, `${path}.load.client`, { oneOf: ['platformatic', 'fast'] })) as 'platformatic' | 'fast',
    inFlightRequests: int(l.inFlightRequests, `${path}.load.inFlightRequests`, { min: 1, max: 5, def: 1 }),
    workers: int(l.workers, `${path}.load.workers`, { min: 1, max: Math.min(64, stack.partitions), def: 1 }),
    workerTimeoutMs:
      l.workerTimeout === undefined ? 60_000 : parseDuration(l.workerTimeout, `${path}.load.workerTimeout`),
  };
  if (load.durationMs <= 0) fail(`${path}.load.duration`, 'a positive duration', load.durationMs);
  if (load.inFlightRequests > 1 && load.client !== 'fast')
    fail(`${path}.load.inFlightRequests`, '1 unless load.client is "fast"', load.inFlightRequests);
  const http = validateHttpLoad(l, `${path}.load`, load, sut.command);
  if (http && sut.start === 'after-load')
    fail(`${path}.sut.start`, '"before-load" with HTTP load (the SUT receives the load itself)', sut.start);

  // Brokers are not limited here: a scenario may run on a running stack (`--stack running`) of another size.
  const topicLimit = { partitions: stack.partitions, replicationFactor: stack.replicationFactor };
  const topicLimits = { [topics.input]: topicLimit, [topics.output]: topicLimit };
  const limits = { sutInstances: sut.instances, sutComponents: sutComponents(sut.command), topics: topicLimits };
  const faults = arr(o.faults, `${path}.faults`, { optional: true }).map((f, i) =>
    validateFault(f, `${path}.faults[${i}]`, limits),
  );
  validateSchemaUpgrades(
    faults,
    {
      ...events,
      registry: stack.registry,
      http: http !== undefined,
      workers: load.workers,
      sutStart: sut.start,
      durationMs: load.durationMs,
    },
    path,
  );

  if (stack.external)
    ext.checkExternal(stack.external, { faults, sut, load: { ...load, format: events.format } }, path);
  const slo = (o.slo ?? {}) as SloSpec;
  if (typeof slo !== 'object' || slo === null || Array.isArray(slo))
    fail(`${path}.slo`, 'an object of metric: [expressions]', slo);
  try {
    parseThresholds(slo, `${path}.slo`);
  } catch (err) {
    if (err instanceof StreamproofError && (err.code === 'SLO_PARSE' || err.code === 'SLO_UNKNOWN_METRIC'))
      throw new StreamproofError('INVALID_SCENARIO', err.message, { path: `${path}.slo` });
    throw err;
  }

  const d = obj(o.drain ?? {}, `${path}.drain`, ['quiet', 'timeout']);
  const drain = {
    quietMs: d.quiet === undefined ? 5000 : parseDuration(d.quiet, `${path}.drain.quiet`),
    timeoutMs: d.timeout === undefined ? 120_000 : parseDuration(d.timeout, `${path}.drain.timeout`),
  };

  if (ev.bad !== undefined) {
    // `threshold` is the resolved form's (workers' plans); a scenario writes `rate` and `kinds` only.
    obj(ev.bad, `${path}.events.bad`, ['rate', 'kinds']);
    events.bad = scenarioOption(() => resolveBadEvents(ev.bad, `${path}.events.bad`, http ? 'http' : 'kafka'));
  }
  const out = obj(o.output ?? {}, `${path}.output`, ['lake']);
  const output = { lake: out.lake === undefined ? undefined : validateLakeOutput(out.lake, `${path}.output.lake`) };
  if (slo.lake_latency !== undefined && output.lake === undefined && sut.command !== 'reference')
    fail(
      `${path}.slo.lake_latency`,
      'an output.lake to measure (or --sut reference, whose lake is read)',
      slo.lake_latency,
    );

  return {
    name,
    description: o.description === undefined ? '' : str(o.description, `${path}.description`),
    output,
    sut,
    stack,
    topics,
    events,
    load: { ...load, via: http ? 'http' : 'kafka', http },
    faults,
    slo,
    drain,
  };
}

/** A generator option's error (`invalid-option`) as the scenario's own (INVALID_SCENARIO, exit 64, same path). */
function scenarioOption<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof StreamproofError && err.code === 'invalid-option')
      throw new StreamproofError('INVALID_SCENARIO', err.message, { path: err.details.path as string });
    throw err;
  }
}

/** The HTTP load fields of `load` (undefined for Kafka load, where they are errors). */
function validateHttpLoad(
  l: Record<string, unknown>,
  p: string,
  load: { producers: number; workers: number; acksTimeoutMs: number },
  sutCommand: string,
): HttpLoadSpec | undefined {
  const via = l.via === undefined ? 'kafka' : str(l.via, `${p}.via`, { oneOf: ['kafka', 'http'] });
  if (via === 'kafka') {
    for (const k of ['batch', 'connections', 'target', 'token'])
      if (l[k] !== undefined) fail(`${p}.${k}`, 'nothing unless load.via is "http"', l[k]);
    return undefined;
  }
  if (l.producers !== undefined) fail(`${p}.producers`, 'nothing with load.via "http" (use connections)', l.producers);
  if (load.workers !== 1) fail(`${p}.workers`, '1 with load.via "http"', load.workers);
  if (load.acksTimeoutMs < 1000) fail(`${p}.acksTimeout`, 'at least 1s with load.via "http"', l.acksTimeout);
  const target = l.target === undefined ? undefined : str(l.target, `${p}.target`);
  if (target !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(target);
    } catch {
      u = undefined;
    }
    if (u?.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname))
      fail(`${p}.target`, 'an http:// URL on 127.0.0.1 or localhost', target);
  } else if (sutCommand !== 'reference') {
    fail(`${p}.via`, '"kafka" unless sut.command is "reference" (it has the collector) or load.target is set', via);
  }
  const token = l.token === undefined ? undefined : str(l.token, `${p}.token`, { pattern: /^[\x21-\x7e]+$/ });
  return {
    batch: int(l.batch, `${p}.batch`, { min: 1, max: 100_000, def: 50 }),
    connections: int(l.connections, `${p}.connections`, { min: 1, max: 256, def: 4 }),
    target,
    token,
  };
}

/** Reads a `.json` or `.ts`/`.js` scenario file and validates it. */
export async function loadScenario(file: string): Promise<{ scenario: Scenario; raw: unknown; file: string }> {
  const abs = resolve(file);
  let raw: unknown;
  try {
    if (abs.endsWith('.json')) {
      raw = JSON.parse(readFileSync(abs, 'utf8'));
    } else if (/\.(ts|mts|js|mjs)$/.test(abs)) {
      raw = (await importModule(abs)).default;
      // A .ts file outside a `"type": "module"` package is loaded as CommonJS: its default export is then one level
      // down (module.exports.default, marked __esModule).
      if (raw !== null && typeof raw === 'object' && (raw as { __esModule?: unknown }).__esModule === true) {
        raw = (raw as { default?: unknown }).default;
      }
      if (raw === undefined)
        throw new StreamproofError(
          'INVALID_SCENARIO',
          `${file}: no default export (export default defineScenario({...}))`,
        );
    } else {
      throw new StreamproofError('USAGE', `${file}: a scenario is a .json, .ts or .js file`);
    }
  } catch (err) {
    if (err instanceof StreamproofError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ERR_MODULE_NOT_FOUND')
      throw new StreamproofError('USAGE', `${file}: no such scenario file`);
    throw new StreamproofError('INVALID_SCENARIO', `${file}: ${(err as Error).message}`);
  }
  const scenario = validateScenario(raw);
  readUpgradeSchemas(scenario, dirname(abs)); // a schema-upgrade's schema file: exit 64 before anything starts
  return { scenario, raw, file: abs };
}
