import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DECODE_KINDS } from '../../generators/bad-slots.ts';
import { issueScenario } from '../../test/fixtures/issue-scenario.ts';
import { exitStatusOf, StreamproofError } from '../util/errors.ts';
import { validateScenario } from './scenario.ts';

const issueExample = issueScenario;

function errorOf(raw: unknown): StreamproofError {
  try {
    validateScenario(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(StreamproofError);
    return err as StreamproofError;
  }
  throw new Error('expected the scenario to be rejected');
}

describe('validateScenario', () => {
  it('accepts the issue example as written, with defaults filled in', () => {
    const s = validateScenario(issueExample);
    expect(s.load.stages).toEqual([{ durationMs: 20_000, from: 2000, to: 2000 }]);
    expect(s.load.durationMs).toBe(20_000);
    expect(s.faults).toHaveLength(2);
    expect(s.topics).toEqual({ input: 'events', output: 'events-out' });
    expect(s.events).toMatchObject({ format: 'json', users: 1000, seed: 42, schemaVersion: 3 });
    expect(s.sut).toMatchObject({ instances: 1, ready: 'group' });
  });

  it('accepts every scenario file shipped in scenarios/', () => {
    const dir = join(import.meta.dirname, '..', '..', 'scenarios');
    for (const f of ['copy-kill.json', 'chaos-matrix.json', 'smoke.json', 'reference-kill.json', 'max-rate.json']) {
      expect(() => validateScenario(JSON.parse(readFileSync(join(dir, f), 'utf8')))).not.toThrow();
    }
  });

  it('takes the load sender (client, requests in flight), defaulting to @platformatic/kafka with one request', () => {
    expect(validateScenario(issueExample).load).toMatchObject({ client: 'platformatic', inFlightRequests: 1 });
    const fast = validateScenario({
      ...issueExample,
      load: { ...issueExample.load, client: 'fast', inFlightRequests: 3 },
    });
    expect(fast.load).toMatchObject({ client: 'fast', inFlightRequests: 3 });
    expect(errorOf({ ...issueExample, load: { ...issueExample.load, client: 'kafkajs' } }).message).toMatch(
      /^scenario\.load\.client: expected/,
    );
    expect(errorOf({ ...issueExample, load: { ...issueExample.load, inFlightRequests: 3 } }).message).toMatch(
      /^scenario\.load\.inFlightRequests: expected 1 unless load\.client is "fast"/,
    );
    expect(
      errorOf({ ...issueExample, load: { ...issueExample.load, client: 'fast', inFlightRequests: 6 } }).message,
    ).toMatch(/^scenario\.load\.inFlightRequests: expected/);
  });

  it('names the path of each bad field, with exit code 64 semantics (INVALID_SCENARIO)', () => {
    const cases: [unknown, RegExp][] = [
      [{ ...issueExample, name: '' }, /^scenario\.name: expected/],
      [
        { ...issueExample, sut: { ...issueExample.sut, contract: 'teleport' } },
        /^scenario\.sut\.contract: expected one of "copy", "lineage", "attribution" or \{ "model"/,
      ],
      [{ ...issueExample, stack: { brokers: 2 } }, /^scenario\.stack\.brokers: expected one of 1, 3, got 2/],
      [
        { ...issueExample, load: { rate: 2000, duration: 'soon' } },
        /^scenario\.load\.duration: expected a duration like "10s"/,
      ],
      [{ ...issueExample, load: { rate: -5, duration: '1s' } }, /^scenario\.load\.rate: expected a number > 0/],
      [{ ...issueExample, events: { format: 'xml' } }, /^scenario\.events\.format/],
      [
        { ...issueExample, faults: [issueExample.faults[0], { ...issueExample.faults[1], at: 'later' }] },
        /^scenario\.faults\[1\]\.at/,
      ],
      [{ ...issueExample, faults: [{ ...issueExample.faults[1], lantecyMs: 5 }] }, /^scenario\.faults\[0\]\.lantecyMs/],
      [{ ...issueExample, slo: { e2e_latency: ['p(95)<<2s'] } }, /slo\.e2e_latency\[0\]/],
      [{ ...issueExample, surprise: true }, /^scenario\.surprise: unknown field/],
      [{ ...issueExample, topics: { input: 'a', output: 'a' } }, /^scenario\.topics\.output/],
    ];
    for (const [raw, re] of cases) {
      const err = errorOf(raw);
      expect(err.code).toBe('INVALID_SCENARIO');
      expect(err.message).toMatch(re);
    }
  });

  it('reads stages: steady, ramp and spike', () => {
    const s = validateScenario({
      ...issueExample,
      load: {
        stages: [
          { duration: '5s', from: 0, to: 1000 },
          { duration: '10s', rate: 1000 },
          { duration: '2s', rate: 5000 },
        ],
      },
    });
    expect(s.load.stages).toEqual([
      { durationMs: 5000, from: 0, to: 1000 },
      { durationMs: 10_000, from: 1000, to: 1000 },
      { durationMs: 2000, from: 5000, to: 5000 },
    ]);
    expect(s.load.durationMs).toBe(17_000);
    expect(errorOf({ ...issueExample, load: { rate: 5, duration: '1s', stages: [] } }).message).toMatch(
      /either rate \+ duration or stages/,
    );
  });
});

describe('validateScenario: contracts and side outputs', () => {
  const lineageSut = {
    command: 'java -jar enrich.jar',
    contract: 'lineage',
    lineage: { id: 'field:event_id', expect: { where: { type: ['click', 'conversion'] } } },
  };
  const rejected = (raw: unknown, path: string): StreamproofError => {
    const err = errorOf(raw);
    expect(err.code).toBe('INVALID_SCENARIO');
    expect(exitStatusOf(err.code)).toBe(64);
    expect(err.details.path).toBe(path);
    expect(err.message.startsWith(`${path}: `)).toBe(true);
    return err;
  };

  it('accepts a lineage SUT as written, the block resolved at its scenario path', () => {
    const s = validateScenario(JSON.parse(JSON.stringify({ ...issueExample, sut: lineageSut })));
    expect(s.sut).toMatchObject({ command: 'java -jar enrich.jar', contract: 'lineage', model: undefined });
    expect(s.sut.lineage).toEqual({
      path: 'scenario.sut.lineage',
      id: { kind: 'field', path: ['event_id'], text: 'field:event_id' },
      expect: { kind: 'where', where: [{ field: 'type', path: ['type'], values: ['click', 'conversion'] }] },
    });
    expect(s.sut.dlq).toBeUndefined();
    expect(s.topics.output).toBe('events-out');
    expect(validateScenario(issueExample).sut.lineage).toBeUndefined();
  });

  it('a lineage contract needs its block; any other contract refuses one', () => {
    const { lineage, ...bare } = lineageSut;
    expect(rejected({ ...issueExample, sut: bare }, 'scenario.sut.lineage').message).toMatch(/a lineage block/);
    expect(
      rejected({ ...issueExample, sut: { ...lineageSut, contract: 'copy' } }, 'scenario.sut.lineage').message,
    ).toMatch(/nothing unless contract is "lineage"/);
    rejected({ ...issueExample, sut: { ...lineageSut, contract: { model: './m.ts' } } }, 'scenario.sut.lineage');
    rejected(
      { ...issueExample, sut: { ...lineageSut, lineage: { ...lineage, id: 'value' } } },
      'scenario.sut.lineage.id',
    );
    rejected(
      { ...issueExample, sut: { ...lineageSut, lineage: { id: 'key', expect: { where: { type: ['view'] } } } } },
      'scenario.sut.lineage.expect.where.type[0]',
    );
  });

  it('sut.dlq: a topic and a reason header', () => {
    const sut = { ...issueExample.sut, dlq: { topic: 'events.dlq', reason: 'header:r' } };
    expect(validateScenario({ ...issueExample, sut }).sut.dlq).toEqual({ topic: 'events.dlq', reasonHeader: 'r' });
    for (const reason of ['r', 'header:', 'key', 42]) {
      const bad = { ...issueExample, sut: { ...sut, dlq: { topic: 'events.dlq', reason } } };
      expect(rejected(bad, 'scenario.sut.dlq.reason').message).toMatch(/expected "header:<name>"/);
    }
    rejected({ ...issueExample, sut: { ...sut, dlq: { topic: 'a b', reason: 'header:r' } } }, 'scenario.sut.dlq.topic');
    rejected({ ...issueExample, sut: { ...sut, dlq: { ...sut.dlq, x: 1 } } }, 'scenario.sut.dlq.x');
  });

  it('events.bad: a rate resolves to its kinds and threshold; a rate outside [0, 1] is bad input (exit 64)', () => {
    const events = (bad: unknown) => ({ ...issueExample, events: { ...issueExample.events, bad } });
    expect(validateScenario(events({ rate: 0.02 })).events.bad).toEqual({
      rate: 0.02,
      kinds: DECODE_KINDS,
      threshold: Math.floor(0.02 * 2 ** 32),
    });
    expect(validateScenario(issueExample).events.bad).toBeUndefined();
    expect(validateScenario(events({ rate: 0.5, kinds: ['not-json'] })).events.bad?.kinds).toEqual(['not-json']);
    expect(rejected(events({ rate: 2 }), 'scenario.events.bad.rate').message).toMatch(/a number in \[0, 1\], got 2/);
    rejected(events({ rate: -0.1 }), 'scenario.events.bad.rate');
    rejected(events({ rate: 0.1, kinds: ['short-buffer'] }), 'scenario.events.bad.kinds');
    rejected(events({ rate: 0.1, ratio: 1 }), 'scenario.events.bad.ratio');
  });

  it('faults: sut:lake and sut:collector for the reference SUT only; sut:I within sut.instances', () => {
    const withFault = (sut: object, target: string) => ({
      ...issueExample,
      sut,
      faults: [{ at: '4s', kind: 'kill', target, restartAfter: '1s' }],
    });
    const reference = { command: 'reference', contract: 'attribution', instances: 2 };
    expect(validateScenario(withFault(reference, 'sut:lake')).faults[0]?.target).toBe('sut:lake');
    expect(validateScenario(withFault(reference, 'sut:collector')).faults[0]?.target).toBe('sut:collector');
    expect(rejected(withFault(issueExample.sut, 'sut:lake'), 'scenario.faults[0].target').message).toMatch(
      /for sut\.command "reference" only\), got "sut:lake"$/,
    );
    expect(rejected(withFault(reference, 'sut:2'), 'scenario.faults[0].target').message).toMatch(
      /expected a SUT instance from sut:0 to sut:1/,
    );
  });

  it('output.lake: a Parquet lake; another format or an unknown output is bad input', () => {
    const output = (o: unknown) => ({ ...issueExample, output: o });
    expect(validateScenario(output({ lake: { path: 'lake', format: 'parquet' } })).output.lake).toEqual({
      path: 'lake',
      format: 'parquet',
      commits: 'log',
    });
    expect(validateScenario(issueExample).output.lake).toBeUndefined();
    expect(rejected(output({ lake: { path: 'lake', format: 'csv' } }), 'scenario.output.lake.format').message).toMatch(
      /expected "parquet", got "csv"/,
    );
    rejected(output({ lake: { format: 'parquet' } }), 'scenario.output.lake.path');
    expect(rejected(output({ x: {} }), 'scenario.output.x').message).toMatch(/unknown field \(known: lake\)/);
  });
});
