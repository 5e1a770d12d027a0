/**
 * The runner's side of schema-upgrade, with fakes: the scenario refusals (exit 64, naming the field), the schema file
 * of a custom evolution, the upgrader's steps against a fake registry (level, check before registering, the id made
 * known before the load switches, a refusal that leaves the load alone), and the hook's refusal of a load that cannot
 * switch.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENT_SCHEMAS } from '../../generators/schemas.ts';
import type { FaultContext } from '../faults/index.ts';
import type { CompatibilityLevel } from '../registry/client.ts';
import { StreamproofError } from '../util/errors.ts';
import { loadScenario, validateScenario } from './scenario.ts';
import { createSchemaUpgrader, readUpgradeSchema, schemaUpgradeHook, type UpgradeRegistry } from './schema-upgrade.ts';

const base = {
  name: 'up',
  sut: { command: 'reference', contract: 'attribution' },
  events: { format: 'avro', schemaVersion: 2 },
  load: { rate: 100, duration: '10s' },
  faults: [{ at: '5s', kind: 'schema-upgrade', to: 3 }],
};

// biome-ignore lint/suspicious/noExplicitAny: scenario JSON edited freely by the cases below
type Json = any;

function refusal(change: (s: Json) => void): string {
  const s = structuredClone(base) as Json;
  change(s);
  try {
    validateScenario(s);
  } catch (err) {
    expect(err).toBeInstanceOf(StreamproofError);
    expect((err as StreamproofError).code).toBe('INVALID_SCENARIO');
    return (err as StreamproofError).message;
  }
  throw new Error('expected the scenario to be refused');
}

describe('schema-upgrade: scenario checks', () => {
  it('accepts an Avro Kafka load with the registry', () => {
    expect(validateScenario(base).faults).toEqual([{ at: '5s', kind: 'schema-upgrade', to: 3, target: 'load' }]);
  });

  it.each([
    [
      'JSON events',
      (s: Json) => (s.events.format = 'json'),
      'scenario.events.format: "avro" for a schema-upgrade fault',
    ],
    ['no registry', (s: Json) => (s.stack = { registry: false }), 'scenario.stack.registry: expected true'],
    [
      'the starting version',
      (s: Json) => (s.faults[0].to = 2),
      'scenario.faults[0].to: a version other than the starting one (events.schemaVersion 2), got 2',
    ],
    [
      'the default starting version',
      (s: Json) => {
        delete s.events.schemaVersion;
      },
      'scenario.faults[0].to: a version other than the starting one (events.schemaVersion 3)',
    ],
    ['load workers', (s: Json) => (s.load.workers = 2), 'scenario.load.workers: 1 for a schema-upgrade fault'],
    [
      'after-load',
      (s: Json) => (s.sut.start = 'after-load'),
      'scenario.sut.start: "before-load" for a schema-upgrade fault',
    ],
    [
      'an upgrade after the load',
      (s: Json) => (s.faults[0].at = '10s'),
      'scenario.faults[0].at: a time before the end of the load (10000 ms)',
    ],
    ['HTTP load', (s: Json) => (s.load.via = 'http'), 'scenario.load.via: "kafka" for a schema-upgrade fault'],
  ])('refuses %s', (_, change, message) => {
    expect(refusal(change)).toContain(message);
  });
});

describe('schema-upgrade: the schema file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-schema-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ok.avsc'), JSON.stringify(EVENT_SCHEMAS[3]));
  writeFileSync(join(dir, 'broken.avsc'), '{ "type": "record", ');
  writeFileSync(
    join(dir, 'notavro.avsc'),
    JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'nope' }] }),
  );
  writeFileSync(join(dir, 'enum.avsc'), JSON.stringify({ type: 'enum', name: 'E', symbols: ['A'] }));

  it('loadScenario reads the file beside the scenario, and refuses a missing one before anything starts', async () => {
    const ok = { ...base, faults: [{ at: '5s', kind: 'schema-upgrade', to: 3, schema: 'ok.avsc' }] };
    writeFileSync(join(dir, 'ok.json'), JSON.stringify(ok));
    expect((await loadScenario(join(dir, 'ok.json'))).scenario.faults[0]).toMatchObject({ schema: 'ok.avsc' });
    const missing = { ...base, faults: [{ at: '5s', kind: 'schema-upgrade', to: 3, schema: 'missing.avsc' }] };
    writeFileSync(join(dir, 'missing.json'), JSON.stringify(missing));
    await expect(loadScenario(join(dir, 'missing.json'))).rejects.toMatchObject({
      code: 'INVALID_SCENARIO',
      message: expect.stringMatching(/^scenario\.faults\[0\]\.schema: cannot read .*missing\.avsc/),
    });
  });

  it('reads an Avro record schema relative to the scenario', () => {
    expect(readUpgradeSchema('ok.avsc', dir)).toEqual(EVENT_SCHEMAS[3]);
  });

  it.each([
    ['missing.avsc', 'cannot read'],
    ['broken.avsc', 'is not an Avro schema'],
    ['notavro.avsc', 'is not an Avro schema'],
    ['enum.avsc', 'is not an Avro record schema'],
  ])('refuses %s (%s)', (file, message) => {
    expect(() => readUpgradeSchema(file, dir, 'scenario.faults[0].schema')).toThrow(
      expect.objectContaining({
        code: 'INVALID_SCENARIO',
        message: expect.stringContaining(`scenario.faults[0].schema: `),
      }),
    );
    expect(() => readUpgradeSchema(file, dir)).toThrow(message);
  });
});

class FakeRegistry implements UpgradeRegistry {
  readonly log: string[] = [];
  level: CompatibilityLevel | undefined = 'BACKWARD';
  compatible = true;
  messages: string[] = [];
  refuse: string | undefined;
  nextId = 11;
  async setCompatibility(subject: string, level: CompatibilityLevel) {
    this.log.push(`level ${subject} ${level}`);
    this.level = level;
  }
  async effectiveCompatibility() {
    return this.level;
  }
  async checkCompatibility(subject: string, schema: object) {
    this.log.push(`check ${subject} ${(schema as { doc?: string }).doc ?? 'custom'}`);
    return { compatible: this.compatible, messages: this.messages };
  }
  async tryRegister(subject: string) {
    this.log.push(`register ${subject}`);
    return this.refuse === undefined ? { id: this.nextId++ } : { refused: this.refuse };
  }
}

function upgrader(registry: FakeRegistry) {
  const versions = new Map<number, 1 | 2 | 3>([[10, 2]]);
  const switched: string[] = [];
  const u = createSchemaUpgrader({
    registry,
    subject: 'events-value',
    from: 2,
    versions,
    switchLoad: (v, id) => switched.push(`v${v} id ${id} known:${versions.get(id)}`),
    readSchema: (file) => ({ type: 'record', name: 'Event', fields: [], file }),
    now: () => 42,
  });
  return { u, versions, switched };
}

describe('schema-upgrade: the upgrader', () => {
  it('checks, registers, makes the id known, then switches the load; a second upgrade starts from the new version', async () => {
    const reg = new FakeRegistry();
    const { u, versions, switched } = upgrader(reg);
    expect(await u.upgrade(3, {})).toEqual({
      from: 2,
      to: 3,
      subject: 'events-value',
      level: 'BACKWARD',
      compatible: true,
      messages: [],
      schemaId: 11,
      switched: true,
      at: 42,
    });
    expect(reg.log).toEqual([
      'check events-value Marketing-attribution event, schema version 3',
      'register events-value',
    ]);
    expect(switched).toEqual(['v3 id 11 known:3']);
    expect([...versions]).toEqual([
      [10, 2],
      [11, 3],
    ]);
    expect(await u.upgrade(1, { compatibility: 'FULL' })).toMatchObject({
      from: 3,
      to: 1,
      level: 'FULL',
      schemaId: 12,
    });
    expect(reg.log[2]).toBe('level events-value FULL');
  });

  it('a refusal keeps the load on its version and carries the reasons', async () => {
    const reg = new FakeRegistry();
    reg.compatible = false;
    reg.messages = ['{"errorType":"READER_FIELD_MISSING_DEFAULT_VALUE"}'];
    reg.refuse = 'Incompatible artifact';
    const { u, versions, switched } = upgrader(reg);
    const o = await u.upgrade(3, { schema: 'e.avsc' });
    expect(o).toEqual({
      from: 2,
      to: 3,
      subject: 'events-value',
      schemaFile: 'e.avsc',
      level: 'BACKWARD',
      compatible: false,
      messages: ['{"errorType":"READER_FIELD_MISSING_DEFAULT_VALUE"}', 'registration refused: Incompatible artifact'],
      switched: false,
      at: 42,
    });
    expect(reg.log[0]).toBe('check events-value custom');
    expect(switched).toEqual([]);
    expect(versions.size).toBe(1);
  });

  it('an id the run already knows for another version is a registry error, and nothing switches', async () => {
    const reg = new FakeRegistry();
    reg.nextId = 10;
    const { u, switched } = upgrader(reg);
    await expect(u.upgrade(3, {})).rejects.toMatchObject({ code: 'REGISTRY_ERROR' });
    expect(switched).toEqual([]);
  });

  it('a level the registry cannot tell is left out', async () => {
    const reg = new FakeRegistry();
    reg.level = undefined;
    const { u } = upgrader(reg);
    expect(await u.upgrade(3, {})).not.toHaveProperty('level');
  });
});

describe('schema-upgrade: the hook', () => {
  const sc = validateScenario(base);
  const setup = { registryUrl: 'http://registry.invalid', baseDir: tmpdir() };

  it('sets ctx.schema for a load that can switch', () => {
    const ctx = {} as FaultContext;
    schemaUpgradeHook(
      ctx,
      { switchSchema: () => {} },
      { sc, input: 'events', setup, versions: new Map(), workers: undefined },
    );
    expect(typeof ctx.schema?.upgrade).toBe('function');
  });

  it('refuses --workers 2 and a load without a switch (exit 64); leaves a scenario without upgrades alone', () => {
    const ctx = {} as FaultContext;
    const x = { sc, input: 'events', setup, versions: new Map<number, 1 | 2 | 3>(), workers: 2 };
    expect(() => schemaUpgradeHook(ctx, { switchSchema: () => {} }, x)).toThrow(
      /load\.workers: 1 for a schema-upgrade/,
    );
    expect(() => schemaUpgradeHook(ctx, {}, { ...x, workers: undefined })).toThrow(
      /this load cannot switch its schema/,
    );
    schemaUpgradeHook(ctx, {}, { ...x, sc: { ...sc, faults: [] } });
    expect(ctx.schema).toBeUndefined();
  });
});
