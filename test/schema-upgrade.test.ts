/**
 * `schema-upgrade` against the reference pipeline on a real stack (Avro, the registry, contract attribution):
 * - v2 -> v3 in the middle of a 15 s load at 300 events/s: the run passes, the input holds both schema ids (v2 events
 *   before the switch, v3 after), nothing undecodable or lost, and the upgrade is in the result with its verdict;
 * - an incompatible evolution (drawn from the schemaEvolution arbitrary: v3 with a field added without a default,
 *   under BACKWARD): the registry refuses
 *   it, the run says so (the fault's detail: refused, the registry's reasons) and goes on passing with v2;
 * - the same evolution under NONE: registered, the producers switch, the reference pipeline cannot read those
 *   records, and the checkers catch it (verdict fail, exit 1).
 * One stack for the file; each run has its own topics (and so its own subject).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemaEvolution } from '../generators/arbitrary/schemaEvolution.ts';
import { decodeAvro, decodeConfluent, EVENT_SCHEMAS } from '../generators/schemas.ts';
import type { SchemaUpgradeOutcome } from '../harness/faults/apply-schema.ts';
import { readTopic } from '../harness/kafka/read-topic.ts';
import { RegistryClient } from '../harness/registry/client.ts';
import { runScenario } from '../harness/runner/run.ts';
import { validateScenario } from '../harness/runner/scenario.ts';
import { type StartedStack, startStack } from '../harness/stack/stack.ts';

let stack: StartedStack;
const out = mkdtempSync(join(tmpdir(), 'streamproof-schema-upgrade-'));

beforeAll(async () => {
  stack = await startStack({ brokers: 1 });
});

afterAll(async () => {
  await stack?.stop();
});

function scenario(name: string, fault: Record<string, unknown>, durationSec: number, rate: number) {
  return validateScenario({
    name,
    sut: { command: 'reference', contract: 'attribution', instances: 1 },
    stack: { brokers: 1, partitions: 4 },
    events: { format: 'avro', users: 300, seed: 31, schemaVersion: 2 },
    load: { rate, duration: `${durationSec}s` },
    faults: [fault],
    drain: { quiet: '3s', timeout: '60s' },
  });
}

/**
 * An evolution of version 3 drawn from the `schemaEvolution` arbitrary that its own labels call BACKWARD-incompatible
 * (a field added without a default: it cannot read v2 data), so a registry under BACKWARD refuses it.
 */
function incompatible() {
  const [evolution] = fc.sample(
    schemaEvolution({ base: EVENT_SCHEMAS[3], kinds: ['add-field-without-default'], minSteps: 1, maxSteps: 1 }),
    { seed: 7, numRuns: 1 },
  );
  const step = evolution!.steps[0]!;
  expect(step.compatibility.BACKWARD, step.change.description).toBe(false);
  return step.schema;
}

/** Schema ids of the input topic's records, with how many records each. */
async function inputSchemaIds(subject: string): Promise<Map<number, number>> {
  const records = await readTopic(stack.bootstrap, subject.replace(/-value$/, ''), { quietMs: 2000 });
  const ids = new Map<number, number>();
  for (const r of records) {
    const { schemaId } = decodeConfluent(r.value!);
    ids.set(schemaId, (ids.get(schemaId) ?? 0) + 1);
  }
  return ids;
}

describe('schema-upgrade', () => {
  it('v2 -> v3 mid-load: pass, both schema ids in the input, nothing undecodable or lost', async () => {
    const sc = scenario('upgrade-2-3', { at: '7s', kind: 'schema-upgrade', to: 3, name: 'up' }, 15, 300);
    const r = await runScenario({ scenario: sc, outDir: join(out, 'ok'), stack });
    expect(r.error, JSON.stringify(r.error)).toBeNull();
    const f = r.faults.find((x) => x.faultId === 'up');
    expect(f?.detail, JSON.stringify(r.faultSchedule)).toBeDefined();
    const up = f!.detail!.schemaUpgrade as SchemaUpgradeOutcome;
    expect(up).toMatchObject({ from: 2, to: 3, switched: true, compatible: true });
    expect(f!.detail!.summary).toMatch(/^v2 -> v3: schema id \d+, compatible/);
    // About the middle of the load.
    const startSec = (Date.parse(f!.startedAt) - Date.parse(r.timeline.loadStart!)) / 1000;
    expect(startSec).toBeGreaterThan(6.5);
    expect(startSec).toBeLessThan(9);

    const ids = await inputSchemaIds(up.subject);
    expect(ids.size).toBe(2);
    expect(ids.get(up.schemaId!)).toBeGreaterThan(500);
    const [oldId] = [...ids.keys()].filter((id) => id !== up.schemaId);
    expect(ids.get(oldId!)).toBeGreaterThan(500);
    const registry = new RegistryClient(stack.registryUrl!);
    expect(JSON.parse(await registry.schemaById(oldId!))).toMatchObject({
      fields: EVENT_SCHEMAS[2].fields.map((x) => ({ name: x.name })),
    });
    // The new id's records are v3 events (schema_version 3).
    const sample = (await readTopic(stack.bootstrap, up.subject.replace(/-value$/, ''), { quietMs: 1000 })).find(
      (x) => decodeConfluent(x.value!).schemaId === up.schemaId,
    );
    expect(decodeAvro(decodeConfluent(sample!.value!).body, 3).schema_version).toBe(3);

    expect(r.counts).toMatchObject({ lost: 0, duplicated: 0, undecodable: 0 });
    expect(r.counts.observed).toBeGreaterThan(0);
    expect(r.verdict, JSON.stringify(r.checkers)).toBe('pass');
  });

  it('an incompatible evolution under BACKWARD: refused by the registry, reported, the load stays on v2', async () => {
    const dir = mkdtempSync(join(out, 'incompatible-'));
    writeFileSync(join(dir, 'incompatible.avsc'), JSON.stringify(incompatible()));
    const sc = scenario(
      'upgrade-refused',
      { at: '3s', kind: 'schema-upgrade', to: 3, schema: 'incompatible.avsc', compatibility: 'BACKWARD', name: 'bad' },
      8,
      200,
    );
    const r = await runScenario({
      scenario: sc,
      scenarioFile: join(dir, 'scenario.json'),
      outDir: join(dir, 'run'),
      stack,
    });
    expect(r.error, JSON.stringify(r.error)).toBeNull();
    const f = r.faults.find((x) => x.faultId === 'bad');
    const up = f?.detail?.schemaUpgrade as SchemaUpgradeOutcome | undefined;
    expect(up, JSON.stringify(r.faultSchedule)).toMatchObject({
      from: 2,
      to: 3,
      schemaFile: 'incompatible.avsc',
      level: 'BACKWARD',
      compatible: false,
      switched: false,
    });
    expect(up!.schemaId).toBeUndefined();
    expect(up!.messages.some((m) => m.startsWith('registration refused: '))).toBe(true);
    expect(f!.detail!.summary).toMatch(/refused by the registry under BACKWARD \(the load kept v2\)/);
    process.stderr.write(`refusal: ${f!.detail!.summary}\n`);

    const ids = await inputSchemaIds(up!.subject);
    expect(ids.size).toBe(1);
    expect(r.counts).toMatchObject({ lost: 0, undecodable: 0 });
    expect(r.verdict, JSON.stringify(r.checkers)).toBe('pass');
  });

  it('the same evolution under NONE: registered, it reaches the pipeline, which cannot read it: the run fails', async () => {
    const dir = mkdtempSync(join(out, 'accepted-'));
    writeFileSync(join(dir, 'incompatible.avsc'), JSON.stringify(incompatible()));
    const sc = scenario(
      'upgrade-accepted',
      { at: '3s', kind: 'schema-upgrade', to: 3, schema: 'incompatible.avsc', compatibility: 'NONE', name: 'bad' },
      7,
      200,
    );
    const r = await runScenario({ scenario: sc, scenarioFile: join(dir, 'x.json'), outDir: join(dir, 'run'), stack });
    expect(r.error, JSON.stringify(r.error)).toBeNull();
    const up = r.faults.find((x) => x.faultId === 'bad')?.detail?.schemaUpgrade as SchemaUpgradeOutcome | undefined;
    expect(up, JSON.stringify(r.faultSchedule)).toMatchObject({ from: 2, to: 3, level: 'NONE', switched: true });
    expect((await inputSchemaIds(up!.subject)).size).toBe(2);
    // The reference attributor resolves the registered writer schema against its reader: the records written under
    // it do not decode (dead-lettered), so their conversions' attributions never come: the checkers catch it.
    process.stderr.write(`accepted incompatible: ${r.verdict} ${JSON.stringify(r.counts)}\n`);
    expect(r.verdict).toBe('fail');
    expect(r.exitCode).toBe(1);
    expect(r.counts.lost).toBeGreaterThan(0);
  });
});
