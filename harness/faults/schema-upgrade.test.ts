/**
 * The schema-upgrade fault: its validation (path-named errors, the target filled in), and its place in the schedule
 * on the fake context with a fake schema hook: applied at `at`, ended at once, start and heal recorded with the
 * upgrade's detail; a refusal is recorded the same way (not an error); a failed hook or no hook is a failed apply.
 */
import { describe, expect, it } from 'vitest';
import { History, historyOf } from '../history/index.ts';
import { StreamproofError } from '../util/errors.ts';
import type { SchemaUpgradeOutcome, SchemaUpgrader } from './apply-schema.ts';
import { describeUpgrade } from './apply-schema.ts';
import { FakeClock, fakeContext } from './fake-context.ts';
import { type FaultEventRecord, planFaults, runSchedule } from './schedule.ts';
import type { FaultSpec } from './spec.ts';
import { validateFault } from './validate.ts';

function rejection(raw: unknown, path = 'faults[1]'): string {
  try {
    validateFault(raw, path, { brokers: 3, sutInstances: 2 });
  } catch (err) {
    expect(err).toBeInstanceOf(StreamproofError);
    expect((err as StreamproofError).code).toBe('INVALID_SCENARIO');
    return (err as StreamproofError).message;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

describe('schema-upgrade: validation', () => {
  it('accepts the short form and fills in the target', () => {
    expect(validateFault({ at: '10s', kind: 'schema-upgrade', to: 3 }, 'faults[0]')).toEqual({
      at: '10s',
      kind: 'schema-upgrade',
      to: 3,
      target: 'load',
    });
    const full = {
      at: 'random',
      kind: 'schema-upgrade',
      target: 'load',
      to: 1,
      schema: './evolved.avsc',
      compatibility: 'FULL_TRANSITIVE',
      name: 'upgrade',
    };
    expect(validateFault(full, 'faults[0]')).toEqual(full);
  });

  const bad: [string, unknown, string][] = [
    [
      'no to',
      { at: '1s', kind: 'schema-upgrade' },
      'faults[1].to: expected the schema version the load switches to: 1, 2 or 3, got nothing',
    ],
    [
      'to 4',
      { at: '1s', kind: 'schema-upgrade', to: 4 },
      'faults[1].to: expected a schema version of the input events: 1, 2 or 3, got 4',
    ],
    ['to "3"', { at: '1s', kind: 'schema-upgrade', to: '3' }, 'faults[1].to: expected a schema version'],
    [
      'a process target',
      { at: '1s', kind: 'schema-upgrade', to: 3, target: 'sut' },
      'faults[1].target: expected "load" or nothing',
    ],
    [
      'a schema that is not a file name',
      { at: '1s', kind: 'schema-upgrade', to: 3, schema: { type: 'record' } },
      'faults[1].schema: expected the path of an Avro schema file',
    ],
    [
      'a schema file of another kind',
      { at: '1s', kind: 'schema-upgrade', to: 3, schema: 'x.txt' },
      'faults[1].schema: expected the path of an Avro schema file',
    ],
    [
      'an unknown level',
      { at: '1s', kind: 'schema-upgrade', to: 3, compatibility: 'backward' },
      'faults[1].compatibility: expected "NONE", "BACKWARD"',
    ],
    [
      'a for',
      { at: '1s', kind: 'schema-upgrade', to: 3, for: '1s' },
      'faults[1].for: unknown field for a schema-upgrade fault',
    ],
  ];
  it.each(bad)('refuses %s', (_, raw, message) => {
    expect(rejection(raw)).toContain(message);
  });

  it('plans it as a fault that ends by itself', () => {
    const [p] = planFaults([validateFault({ at: '7s', kind: 'schema-upgrade', to: 3 }, 'faults[0]')]);
    expect(p).toMatchObject({ atMs: 7000, forMs: 0, healFrom: 'ended', faultId: 'faults[0]' });
  });
});

const outcome = (o: Partial<SchemaUpgradeOutcome>): SchemaUpgradeOutcome => ({
  from: 2,
  to: 3,
  subject: 'events-value',
  compatible: true,
  messages: [],
  switched: true,
  schemaId: 7,
  level: 'BACKWARD',
  at: 0,
  ...o,
});

async function schedule(hook: SchemaUpgrader | undefined, specs: FaultSpec[]) {
  const ctx = fakeContext({ brokers: 1 });
  if (hook) ctx.schema = hook;
  const clock = new FakeClock();
  const start = clock.time;
  const records: FaultEventRecord[] = [];
  const result = await clock.drive(
    runSchedule(specs, ctx, {
      start,
      now: clock.now,
      sleep: clock.sleep,
      record: (r) => records.push(r),
      durationMs: 20_000,
    }),
  );
  return { result, records, start };
}

describe('schema-upgrade: in the schedule', () => {
  const spec = validateFault({ at: '7s', kind: 'schema-upgrade', to: 3, name: 'up' }, 'faults[0]');

  it('asks the hook at `at`, records start and heal at once with the upgrade as detail', async () => {
    const calls: unknown[] = [];
    const hook: SchemaUpgrader = {
      async upgrade(to, opts) {
        calls.push({ to, opts });
        return outcome({});
      },
    };
    const { result, records, start } = await schedule(hook, [spec]);
    expect(calls).toEqual([{ to: 3, opts: {} }]);
    expect(result).toMatchObject({ applied: 1, healed: 1, errors: [] });
    expect(records.map((r) => [r.phase, r.time - start, r.target, r.targets])).toEqual([
      ['start', 7000, 'load', ['events-value']],
      ['heal', 7000, 'load', ['events-value']],
    ]);
    expect(records[0]!.detail).toEqual({
      summary: 'v2 -> v3: schema id 7, compatible under BACKWARD',
      schemaUpgrade: outcome({}),
    });
  });

  it('passes the schema file and the level on', async () => {
    const calls: unknown[] = [];
    const hook: SchemaUpgrader = {
      async upgrade(to, opts) {
        calls.push({ to, opts });
        return outcome({ schemaFile: 'e.avsc' });
      },
    };
    const s = validateFault(
      { at: 0, kind: 'schema-upgrade', to: 3, schema: 'e.avsc', compatibility: 'NONE' },
      'faults[0]',
    );
    await schedule(hook, [s]);
    expect(calls).toEqual([{ to: 3, opts: { schema: 'e.avsc', compatibility: 'NONE' } }]);
  });

  it('a refusal is recorded with its reasons, not an error', async () => {
    const refused = outcome({
      compatible: false,
      switched: false,
      schemaId: undefined,
      messages: ['READER_FIELD_MISSING_DEFAULT_VALUE x', 'registration refused: incompatible'],
    });
    const { result, records } = await schedule({ upgrade: async () => refused }, [spec]);
    expect(result.errors).toEqual([]);
    expect(records.map((r) => r.phase)).toEqual(['start', 'heal']);
    expect(records[0]!.detail!.summary).toBe(
      'v2 -> v3 refused by the registry under BACKWARD (the load kept v2): READER_FIELD_MISSING_DEFAULT_VALUE x; registration refused: incompatible',
    );
  });

  it('a hook that fails, or no hook, is a failed apply (nothing recorded)', async () => {
    const failing = await schedule(
      {
        upgrade: async () => {
          throw new Error('HTTP 503');
        },
      },
      [spec],
    );
    expect(failing.records).toEqual([]);
    expect(failing.result.errors).toEqual([
      { faultId: 'up', phase: 'apply', message: 'up: schema-upgrade to v3 failed: HTTP 503' },
    ]);
    const none = await schedule(undefined, [spec]);
    expect(none.result.errors[0]).toMatchObject({ faultId: 'up', phase: 'apply' });
    expect(none.result.errors[0]!.message).toContain('schema-upgrade: this run offers no schema hook');
  });

  it("the history keeps the detail in the fault's window, through its JSON and a merge", async () => {
    const { records } = await schedule({ upgrade: async () => outcome({}) }, [spec]);
    const h = historyOf(records);
    expect(h.faults[0]!.detail).toEqual(records[0]!.detail);
    const back = History.fromJSON(JSON.parse(JSON.stringify(h)));
    expect(back.faults[0]).toEqual(h.faults[0]);
    expect(new History().merge(back).faults[0]!.detail!.summary).toBe(
      'v2 -> v3: schema id 7, compatible under BACKWARD',
    );
  });

  it('describes an accepted incompatible schema and a custom file', () => {
    expect(
      describeUpgrade(outcome({ compatible: false, level: 'NONE', messages: ['field x'], schemaFile: 'e.avsc' })),
    ).toBe('v2 -> e.avsc (as v3): schema id 7, INCOMPATIBLE under NONE: field x');
  });
});
