import { describe, expect, it } from 'vitest';
import { StreamproofError } from '../util/errors.ts';
import type { FaultSpec } from './spec.ts';
import { validateFault, validateFaults } from './validate.ts';

function errorOf(raw: unknown, path = 'faults[1]', limits = {}): StreamproofError {
  try {
    validateFault(raw, path, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(StreamproofError);
    expect((err as StreamproofError).code).toBe('INVALID_SCENARIO');
    return err as StreamproofError;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

const net = { at: '10s', for: '3s', target: 'sut->kafka' } as const;

describe('validateFault: valid specs', () => {
  it('accepts the two examples of the brief as written', () => {
    const kill = { at: '5s', kind: 'kill', target: 'sut', restartAfter: '1s' };
    const latency = { at: '10s', for: '3s', kind: 'latency', target: 'sut->kafka', latencyMs: 500, jitterMs: 100 };
    expect(validateFault(kill, 'faults[0]')).toEqual(kill);
    expect(validateFault(latency, 'faults[1]')).toEqual(latency);
  });

  const valid: FaultSpec[] = [
    { ...net, kind: 'latency', latencyMs: 100 },
    { ...net, kind: 'latency', latencyMs: 0, jitterMs: 5, stream: 'upstream', toxicity: 0.5 },
    { ...net, kind: 'bandwidth', rateKBps: 64, stream: 'downstream' },
    { ...net, kind: 'slow_close', delayMs: 1000 },
    { ...net, kind: 'timeout' },
    { ...net, kind: 'timeout', timeoutMs: 500 },
    { ...net, kind: 'reset_peer' },
    { ...net, kind: 'reset_peer', timeoutMs: 100, toxicity: 0 },
    { ...net, kind: 'slicer', averageSize: 64 },
    { ...net, kind: 'slicer', averageSize: 64, sizeVariation: 32, delayUs: 10, stream: 'both' },
    { ...net, kind: 'limit_data', bytes: 1000 },
    { at: 0, for: 1500, kind: 'partition', target: 'sut->broker:2' },
    { at: '1m', kind: 'kill', target: 'broker:3' },
    { at: '1s', kind: 'kill', target: 'sut:0', for: '2s' },
    { at: '2s', for: '500ms', kind: 'pause', target: 'sut:1', name: 'gc-pause' },
    { at: '3s', kind: 'restart', target: 'broker:1' },
    { at: '3s', kind: 'restart', target: 'sut', for: '1s' },
    { at: 'random', for: '2s', kind: 'partition', target: 'sut->kafka' },
  ];
  it.each(valid.map((s) => [`${s.kind} ${JSON.stringify(s)}`, s] as const))('%s', (_, spec) => {
    expect(validateFault(spec, 'faults[0]')).toEqual(spec);
  });
});

describe('validateFault: each bad field is named by its path', () => {
  const cases: [string, unknown, string][] = [
    ['not an object', 'latency', 'faults[1]: expected an object'],
    ['an array', [], 'faults[1]: expected an object'],
    ['missing kind', { at: '1s', target: 'sut' }, 'faults[1].kind: expected one of "latency"'],
    ['unknown kind', { at: '1s', kind: 'fire', target: 'sut' }, 'faults[1].kind: expected one of'],
    [
      'latencyMs not a number',
      { ...net, kind: 'latency', latencyMs: 'x' },
      'faults[1].latencyMs: expected a non-negative integer, got "x"',
    ],
    [
      'latencyMs negative',
      { ...net, kind: 'latency', latencyMs: -1 },
      'faults[1].latencyMs: expected a non-negative integer, got -1',
    ],
    [
      'latencyMs fractional',
      { ...net, kind: 'latency', latencyMs: 1.5 },
      'faults[1].latencyMs: expected a non-negative integer, got 1.5',
    ],
    [
      'latencyMs missing',
      { ...net, kind: 'latency' },
      'faults[1].latencyMs: expected a non-negative integer, got nothing',
    ],
    [
      'jitterMs',
      { ...net, kind: 'latency', latencyMs: 1, jitterMs: null },
      'faults[1].jitterMs: expected a non-negative integer, got null',
    ],
    [
      'rateKBps zero',
      { ...net, kind: 'bandwidth', rateKBps: 0 },
      'faults[1].rateKBps: expected a positive integer, got 0',
    ],
    ['rateKBps missing', { ...net, kind: 'bandwidth' }, 'faults[1].rateKBps: expected a positive integer, got nothing'],
    [
      'delayMs',
      { ...net, kind: 'slow_close', delayMs: '1s' },
      'faults[1].delayMs: expected a non-negative integer, got "1s"',
    ],
    [
      'timeoutMs',
      { ...net, kind: 'timeout', timeoutMs: true },
      'faults[1].timeoutMs: expected a non-negative integer, got true',
    ],
    [
      'reset_peer timeoutMs',
      { ...net, kind: 'reset_peer', timeoutMs: -5 },
      'faults[1].timeoutMs: expected a non-negative integer, got -5',
    ],
    [
      'averageSize',
      { ...net, kind: 'slicer', averageSize: 0 },
      'faults[1].averageSize: expected a positive integer, got 0',
    ],
    [
      'sizeVariation',
      { ...net, kind: 'slicer', averageSize: 10, sizeVariation: 'a' },
      'faults[1].sizeVariation: expected a non-negative integer, got "a"',
    ],
    [
      'sizeVariation >= averageSize',
      { ...net, kind: 'slicer', averageSize: 10, sizeVariation: 10 },
      'faults[1].sizeVariation: expected an integer smaller than averageSize (10), got 10',
    ],
    [
      'delayUs',
      { ...net, kind: 'slicer', averageSize: 10, delayUs: 0.5 },
      'faults[1].delayUs: expected a non-negative integer, got 0.5',
    ],
    [
      'bytes',
      { ...net, kind: 'limit_data', bytes: '1kb' },
      'faults[1].bytes: expected a non-negative integer, got "1kb"',
    ],
    [
      'stream',
      { ...net, kind: 'timeout', stream: 'sideways' },
      'faults[1].stream: expected "upstream", "downstream", "both", got "sideways"',
    ],
    ['toxicity > 1', { ...net, kind: 'timeout', toxicity: 1.5 }, 'faults[1].toxicity: expected a number from 0 to 1'],
    [
      'toxicity NaN',
      { ...net, kind: 'timeout', toxicity: Number.NaN },
      'faults[1].toxicity: expected a number from 0 to 1 (the fraction of connections affected), got NaN',
    ],
    [
      'at missing',
      { for: '1s', kind: 'partition', target: 'sut->kafka' },
      'faults[1].at: expected a duration from the start of the load like "10s", or "random", got nothing',
    ],
    [
      'at bad',
      { at: 'soon', for: '1s', kind: 'partition', target: 'sut->kafka' },
      'faults[1].at: expected a duration like "10s"',
    ],
    [
      'at negative',
      { at: -1, for: '1s', kind: 'partition', target: 'sut->kafka' },
      'faults[1].at: expected a duration',
    ],
    [
      'for missing on a network fault',
      { at: '1s', kind: 'partition', target: 'sut->kafka' },
      'faults[1].for: expected a duration like "3s" (how long the partition fault lasts',
    ],
    [
      'for missing on a toxic',
      { at: '1s', kind: 'latency', target: 'sut->kafka', latencyMs: 5 },
      'faults[1].for: expected a duration like "3s"',
    ],
    [
      'for missing on pause',
      { at: '1s', kind: 'pause', target: 'sut' },
      'faults[1].for: expected a duration like "3s" (how long the process stays paused), got nothing',
    ],
    ['for bad', { at: '1s', for: '3 weeks', kind: 'pause', target: 'sut' }, 'faults[1].for: expected a duration'],
    [
      'restartAfter bad',
      { at: '1s', kind: 'kill', target: 'sut', restartAfter: 'later' },
      'faults[1].restartAfter: expected a duration',
    ],
    [
      'kill with for and restartAfter',
      { at: '1s', kind: 'kill', target: 'sut', restartAfter: '1s', for: '1s' },
      'faults[1].restartAfter: a kill takes either',
    ],
    [
      'target missing',
      { at: '1s', kind: 'kill' },
      'faults[1].target: expected a process target ("sut", "sut:I" or "broker:N") for a kill fault, got nothing',
    ],
    [
      'target garbage',
      { ...net, kind: 'timeout', target: 'kafka' },
      'faults[1].target: expected a connection target ("sut->kafka" or "sut->broker:N") for a timeout fault, got "kafka"',
    ],
    [
      'network fault on a process',
      { ...net, kind: 'latency', latencyMs: 5, target: 'sut' },
      'faults[1].target: expected a connection target',
    ],
    [
      'network fault on a broker process',
      { ...net, kind: 'partition', target: 'broker:1' },
      'faults[1].target: expected a connection target',
    ],
    [
      'process fault on a connection',
      { at: '1s', kind: 'kill', target: 'sut->broker:1' },
      'faults[1].target: expected a process target',
    ],
    ['broker 0', { at: '1s', kind: 'kill', target: 'broker:0' }, 'faults[1].target: expected a broker id from 1'],
    ['sut:-1', { at: '1s', kind: 'kill', target: 'sut:-1' }, 'faults[1].target: expected a process target'],
    [
      'name',
      { at: '1s', kind: 'kill', target: 'sut', name: 'faults[0]' },
      'faults[1].name: expected a name of letters',
    ],
    [
      'unknown field',
      { ...net, kind: 'latency', latency: 5 },
      'faults[1].latency: unknown field for a latency fault (it takes at, kind, target, name, for, latencyMs',
    ],
    [
      'toxic field on a process fault',
      { at: '1s', kind: 'pause', for: '1s', target: 'sut', toxicity: 1 },
      'faults[1].toxicity: unknown field for a pause fault',
    ],
    [
      'for on nothing else',
      { at: '1s', kind: 'kill', target: 'sut', duration: '1s' },
      'faults[1].duration: unknown field',
    ],
  ];
  it.each(cases)('%s', (_, raw, message) => {
    const err = errorOf(raw);
    expect(err.message.startsWith(message)).toBe(true);
    expect(err.details.path).toBe(message.split(':')[0]);
  });

  it('checks targets against the stack when limits are given', () => {
    expect(errorOf({ at: '1s', kind: 'kill', target: 'broker:4' }, 'f', { brokers: 3 }).message).toBe(
      'f.target: expected a broker of this stack (1, 2, 3), got "broker:4"',
    );
    expect(errorOf({ ...net, kind: 'timeout', target: 'sut->broker:2' }, 'f', { brokers: [1] }).message).toMatch(
      /^f\.target: expected a broker of this stack \(1\)/,
    );
    expect(errorOf({ at: '1s', kind: 'kill', target: 'sut:2' }, 'f', { sutInstances: 2 }).message).toBe(
      'f.target: expected a SUT instance from sut:0 to sut:1 (instances are 0-based), got "sut:2"',
    );
    expect(
      validateFault({ at: '1s', kind: 'kill', target: 'sut:1' }, 'f', { brokers: 3, sutInstances: 2 }),
    ).toBeTruthy();
  });
});

describe('validateFault: component targets (sut:<name>)', () => {
  const reference = { sutInstances: 2, sutComponents: ['collector', 'lake'] };

  it('takes sut:lake and sut:collector for process faults when the SUT has them', () => {
    const specs: FaultSpec[] = [
      { at: '4s', kind: 'kill', target: 'sut:lake', restartAfter: '1s' },
      { at: '6s', for: '2s', kind: 'pause', target: 'sut:lake' },
      { at: '8s', kind: 'restart', target: 'sut:collector', for: '1s' },
    ];
    for (const spec of specs) expect(validateFault(spec, 'f', reference)).toEqual(spec);
    // Limits unknown: not checked here (the run's context refuses a component it does not have).
    expect(validateFault(specs[0], 'f')).toEqual(specs[0]);
  });

  it('refuses them for a SUT without components, naming the field and what is allowed', () => {
    const err = errorOf({ at: '4s', kind: 'kill', target: 'sut:lake' }, 'scenario.faults[0]', {
      sutInstances: 1,
      sutComponents: [],
    });
    expect(err.message).toBe(
      'scenario.faults[0].target: expected "sut", "sut:I" or "broker:N" (component targets, "sut:collector" and ' +
        '"sut:lake", are for sut.command "reference" only), got "sut:lake"',
    );
    expect(err.details.path).toBe('scenario.faults[0].target');
  });

  it('refuses a component the SUT does not have, listing the ones it has', () => {
    expect(errorOf({ at: '1s', kind: 'kill', target: 'sut:attributor' }, 'f', reference).message).toBe(
      'f.target: expected a component of this SUT ("sut:collector", "sut:lake"), "sut", "sut:I" or "broker:N", ' +
        'got "sut:attributor"',
    );
  });

  it('network and cluster faults keep their own targets', () => {
    expect(errorOf({ ...net, kind: 'partition', target: 'sut:lake' }, 'f', reference).message).toMatch(
      /^f\.target: expected a connection target \("sut->kafka" or "sut->broker:N"\) for a partition fault/,
    );
    expect(errorOf({ at: '1s', kind: 'rolling-restart', target: 'sut:lake' }, 'f', reference).message).toMatch(
      /^f\.target: expected "brokers"/,
    );
    expect(errorOf({ at: '1s', kind: 'kill', target: 'sut:Lake' }, 'f', reference).message).toMatch(
      /^f\.target: expected a process target \("sut", "sut:I" or "broker:N"\)/,
    );
  });
});

describe('validateFaults', () => {
  it('validates each element with its index and rejects duplicate names', () => {
    expect(validateFaults(undefined)).toEqual([]);
    expect(() => validateFaults({}, 'scenario.faults')).toThrow(
      /^scenario\.faults: expected a list of faults, got \{\}/,
    );
    expect(() => validateFaults([{ at: '1s', kind: 'kill', target: 'sut' }, { at: 'x' }])).toThrow(
      /^faults\[1\]\.kind/,
    );
    expect(() =>
      validateFaults([
        { at: '1s', kind: 'kill', target: 'sut', name: 'a' },
        { at: '2s', kind: 'kill', target: 'sut', name: 'a' },
      ]),
    ).toThrow('faults[1].name: expected a name not used by another fault (faults[0] is also "a"), got "a"');
  });
});
