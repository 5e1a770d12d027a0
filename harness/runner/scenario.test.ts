import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { issueScenario } from '../../test/fixtures/issue-scenario.ts';
import { StreamproofError } from '../util/errors.ts';
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
