/**
 * The runner's side of `schema-upgrade` (docs/schema-upgrade.md): the scenario checks (Avro, the registry, one load
 * process writing to Kafka), the schema file of a custom evolution, and the hook the fault calls: ask the registry
 * for its compatibility verdict, register, make the run's checkers and observer know the new id, switch the load.
 *
 * Order matters: the new id is known to the run (`versions`) before the first event carries it, so no reader of the
 * harness ever meets an id it cannot decode.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import avro from 'avsc';
import { EVENT_SCHEMAS } from '../../generators/schemas.ts';
import type { SchemaUpgradeOutcome, SchemaUpgrader, SchemaVersion } from '../faults/apply-schema.ts';
import type { FaultContext, FaultSpec, SchemaUpgradeFault } from '../faults/index.ts';
import { type CompatibilityLevel, RegistryClient } from '../registry/client.ts';
import { parseDuration } from '../util/duration.ts';
import { messageOf, StreamproofError } from '../util/errors.ts';
import type { Scenario } from './scenario.ts';

/** The parts of a scenario the checks read. */
export interface UpgradeLimits {
  format: 'avro' | 'json';
  registry: boolean;
  schemaVersion: SchemaVersion;
  http: boolean;
  workers: number;
  sutStart: 'before-load' | 'after-load';
  /** The load's duration, ms: an upgrade must come before its end. */
  durationMs: number;
}

/** Refuses what a schema upgrade cannot mean (exit 64), naming the field. */
export function validateSchemaUpgrades(faults: readonly FaultSpec[], x: UpgradeLimits, path = 'scenario'): void {
  faults.forEach((f, i) => {
    if (f.kind !== 'schema-upgrade') return;
    const at = `${path}.faults[${i}]`;
    const bad = (field: string, what: string, got: unknown): never => {
      throw new StreamproofError('INVALID_SCENARIO', `${field}: ${what}, got ${JSON.stringify(got)}`, { path: field });
    };
    if (x.format !== 'avro') {
      bad(
        `${path}.events.format`,
        `"avro" for a schema-upgrade fault (${at}: JSON events carry no schema id)`,
        x.format,
      );
    }
    if (!x.registry) bad(`${path}.stack.registry`, `true for a schema-upgrade fault (${at})`, x.registry);
    if (f.to === x.schemaVersion) {
      bad(`${at}.to`, `a version other than the starting one (events.schemaVersion ${x.schemaVersion})`, f.to);
    }
    if (x.http) {
      bad(
        `${path}.load.via`,
        `"kafka" for a schema-upgrade fault (${at}: over HTTP the collector chooses the schema)`,
        'http',
      );
    }
    if (x.workers > 1) {
      bad(
        `${path}.load.workers`,
        `1 for a schema-upgrade fault (${at}: the switch does not reach load worker processes)`,
        x.workers,
      );
    }
    if (f.at !== 'random' && parseDuration(f.at, `${at}.at`, 'INVALID_SCENARIO') >= x.durationMs) {
      bad(
        `${at}.at`,
        `a time before the end of the load (${x.durationMs} ms): the upgrade switches a running load`,
        f.at,
      );
    }
    if (x.sutStart === 'after-load') {
      bad(
        `${path}.sut.start`,
        `"before-load" for a schema-upgrade fault (${at}: it switches a running load)`,
        x.sutStart,
      );
    }
  });
}

/** The scenario's checks for a resolved scenario (and the load workers the run really uses). */
export function checkScenarioUpgrades(sc: Scenario, workers = sc.load.workers): void {
  validateSchemaUpgrades(sc.faults, {
    format: sc.events.format,
    registry: sc.stack.registry,
    schemaVersion: sc.events.schemaVersion,
    http: sc.load.http !== undefined,
    workers,
    sutStart: sc.sut.start,
    durationMs: sc.load.durationMs,
  });
}

/**
 * Reads a custom evolution's schema file (relative to `baseDir`) and checks it is an Avro schema. Throws
 * StreamproofError `INVALID_SCENARIO` naming the file.
 */
export function readUpgradeSchema(file: string, baseDir: string, path = 'schema'): object {
  const abs = resolve(baseDir, file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new StreamproofError('INVALID_SCENARIO', `${path}: cannot read ${abs}: ${messageOf(err)}`, { path });
  }
  let schema: unknown;
  try {
    schema = JSON.parse(text);
    avro.Type.forSchema(schema as avro.Schema, { wrapUnions: 'auto' });
  } catch (err) {
    throw new StreamproofError('INVALID_SCENARIO', `${path}: ${abs} is not an Avro schema: ${messageOf(err)}`, {
      path,
    });
  }
  if (typeof schema !== 'object' || schema === null || (schema as { type?: unknown }).type !== 'record') {
    throw new StreamproofError('INVALID_SCENARIO', `${path}: ${abs} is not an Avro record schema`, { path });
  }
  return schema;
}

/** Every schema file the scenario's upgrades name, read and checked (see readUpgradeSchema), by name. */
export function readUpgradeSchemas(sc: Pick<Scenario, 'faults'>, baseDir: string): Map<string, object> {
  const files = new Map<string, object>();
  sc.faults.forEach((f, i) => {
    if (f.kind === 'schema-upgrade' && f.schema !== undefined && !files.has(f.schema)) {
      files.set(f.schema, readUpgradeSchema(f.schema, baseDir, `scenario.faults[${i}].schema`));
    }
  });
  return files;
}

/** The registry as the upgrade uses it (RegistryClient; fakes in tests). */
export interface UpgradeRegistry {
  setCompatibility(subject: string, level: CompatibilityLevel): Promise<void>;
  effectiveCompatibility(subject: string): Promise<CompatibilityLevel | undefined>;
  checkCompatibility(subject: string, schema: object): Promise<{ compatible: boolean; messages: string[] }>;
  tryRegister(subject: string, schema: object): Promise<{ id: number } | { refused: string }>;
}

export interface UpgraderDeps {
  registry: UpgradeRegistry;
  subject: string;
  /** The version the load writes when the run starts. */
  from: SchemaVersion;
  /** The run's schema ids and their versions (what the checkers and the observer decode with). */
  versions: Map<number, SchemaVersion>;
  /** The load: every event offered from now on is of `version`, framed with `schemaId`. */
  switchLoad(version: SchemaVersion, schemaId: number): void;
  /** A custom evolution's schema, by the file name the scenario wrote. */
  readSchema(file: string): object;
  now?: () => number;
}

/**
 * The hook of FaultContext.schema: level (set when asked), compatibility check (before registering), registration,
 * then the new id made known and the load switched. A refusal leaves the load on its version.
 */
export function createSchemaUpgrader(d: UpgraderDeps): SchemaUpgrader {
  const now = d.now ?? Date.now;
  let current = d.from;
  return {
    async upgrade(to, opts) {
      const schema = opts.schema === undefined ? (EVENT_SCHEMAS[to] as object) : d.readSchema(opts.schema);
      if (opts.compatibility !== undefined) await d.registry.setCompatibility(d.subject, opts.compatibility);
      const level = opts.compatibility ?? (await d.registry.effectiveCompatibility(d.subject).catch(() => undefined));
      const check = await d.registry.checkCompatibility(d.subject, schema);
      const registered = await d.registry.tryRegister(d.subject, schema);
      const base = {
        from: current,
        to,
        subject: d.subject,
        ...(opts.schema === undefined ? {} : { schemaFile: opts.schema }),
        ...(level === undefined ? {} : { level }),
        compatible: check.compatible,
      };
      if ('refused' in registered) {
        const outcome: SchemaUpgradeOutcome = {
          ...base,
          messages: [...check.messages, `registration refused: ${registered.refused}`],
          switched: false,
          at: now(),
        };
        return outcome;
      }
      const known = d.versions.get(registered.id);
      if (known !== undefined && known !== to) {
        throw new StreamproofError(
          'REGISTRY_ERROR',
          `the registry gave id ${registered.id}, already the run's id of version ${known}, to the schema of version ${to}`,
        );
      }
      d.versions.set(registered.id, to);
      d.switchLoad(to, registered.id);
      const from = current;
      current = to;
      return { ...base, from, messages: check.messages, schemaId: registered.id, switched: true, at: now() };
    },
  };
}

/**
 * The runner's wiring: the hook on `ctx` for this run's load. A load that cannot switch (HTTP, load workers) with a
 * schema-upgrade in the scenario is refused here (exit 64), as is a schema file that cannot be read.
 */
export function schemaUpgradeHook(
  ctx: FaultContext | undefined,
  load: object,
  x: {
    sc: Scenario;
    input: string;
    /** The run's contract setup: the registry and the scenario's directory. */
    setup: { readonly registryUrl?: string | undefined; readonly baseDir: string };
    versions: Map<number, SchemaVersion>;
    workers: number | undefined;
  },
): void {
  const upgrades = x.sc.faults.filter((f): f is SchemaUpgradeFault => f.kind === 'schema-upgrade');
  if (!ctx || upgrades.length === 0) return;
  checkScenarioUpgrades(x.sc, x.workers ?? x.sc.load.workers);
  const files = readUpgradeSchemas(x.sc, x.setup.baseDir);
  const switchable = load as { switchSchema?: (v: SchemaVersion, id: number) => void };
  const registryUrl = x.setup.registryUrl;
  if (typeof switchable.switchSchema !== 'function' || !registryUrl) {
    throw new StreamproofError('INVALID_SCENARIO', 'schema-upgrade: this load cannot switch its schema');
  }
  ctx.schema = createSchemaUpgrader({
    registry: new RegistryClient(registryUrl),
    subject: `${x.input}-value`,
    from: x.sc.events.schemaVersion,
    versions: x.versions,
    switchLoad: (v, id) => switchable.switchSchema!(v, id),
    readSchema: (file) => files.get(file)!,
  });
}
