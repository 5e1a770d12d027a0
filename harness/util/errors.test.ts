import { describe, expect, it } from 'vitest';
import { createBulkGenerator } from '../../generators/bulk.ts';
import { parseThresholds } from '../checkers/threshold.ts';
import { History } from '../history/index.ts';
import { resolveLoadOptions } from '../load/options.ts';
import {
  ERRORS,
  type ErrorCode,
  errorCodes,
  exitCodeFor,
  exitStatusOf,
  isErrorCode,
  StreamproofError,
} from './errors.ts';

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('the error table', () => {
  it('gives every code an exit status in 0..64 (64 bad input, 3 harness failure) and a one-line meaning', () => {
    expect(errorCodes.length).toBeGreaterThan(30);
    for (const code of errorCodes) {
      const { exit, meaning } = ERRORS[code];
      expect(Number.isInteger(exit) && exit >= 0 && exit <= 64, code).toBe(true);
      expect([3, 64], code).toContain(exit);
      expect(meaning.trim().length, code).toBeGreaterThan(10);
      expect(meaning, code).not.toContain('\n');
    }
  });

  it('keeps every code stored results and tests use', () => {
    for (const code of [
      'USAGE',
      'INVALID_SCENARIO',
      'PORT_IN_USE',
      'PROVISION_FAILED',
      'MISSING_TOOL',
      'STACK_START_FAILED',
      'STACK_NOT_RUNNING',
      'STACK_ALREADY_RUNNING',
      'TIMEOUT',
      'REGISTRY_ERROR',
      'INTERNAL',
      'LOAD_INVALID_OPTION',
      'LOAD_TOPIC_MISSING',
      'LOAD_CONNECT_FAILED',
      'FAULT_UNKNOWN_TARGET',
      'FAULT_APPLY_FAILED',
      'FAULT_HEAL_FAILED',
      'FAULT_SCHEDULE',
      'CHECKER_THREW',
      'CHECKER_INVALID_RESULT',
      'CHECKER_DUPLICATE_NAME',
      'CHECKER_INVALID_OPTION',
      'SLO_PARSE',
      'SLO_UNKNOWN_METRIC',
      'CHECKER_IO',
      'HISTORY_INVALID_JSON',
      'HISTORY_INVALID_RECORD',
      'HISTORY_SEQ_OUT_OF_RANGE',
      'HISTORY_MERGE_MISMATCH',
      'HISTORY_IO',
      'invalid-option',
    ]) {
      expect(isErrorCode(code), code).toBe(true);
    }
  });

  it.each<[ErrorCode, number]>([
    ['USAGE', 64],
    ['INVALID_SCENARIO', 64],
    ['LOAD_INVALID_OPTION', 64],
    ['FAULT_SCHEDULE', 64],
    ['CHECKER_INVALID_OPTION', 64],
    ['CHECKER_DUPLICATE_NAME', 64],
    ['SLO_PARSE', 64],
    ['SLO_UNKNOWN_METRIC', 64],
    ['invalid-option', 64],
    ['LOAD_TOPIC_MISSING', 3],
    ['LOAD_CONNECT_FAILED', 3],
    ['STACK_START_FAILED', 3],
    ['TIMEOUT', 3],
    ['FAULT_APPLY_FAILED', 3],
    ['CHECKER_THREW', 3],
    ['HISTORY_INVALID_JSON', 3],
    ['INTERNAL', 3],
  ])('exitCodeFor a %s error is %i', (code, exit) => {
    expect(exitCodeFor(new StreamproofError(code, 'x'))).toBe(exit);
    expect(new StreamproofError(code, 'x').exit).toBe(exit);
    expect(exitStatusOf(code)).toBe(exit);
  });

  it('exitCodeFor anything that is not a StreamproofError is 3', () => {
    expect(exitCodeFor(new Error('boom'))).toBe(3);
    expect(exitCodeFor(Object.assign(new Error('coded'), { code: 'USAGE' }))).toBe(3);
    expect(exitCodeFor('a string')).toBe(3);
    expect(exitCodeFor(undefined)).toBe(3);
    expect(exitStatusOf('NOT_A_CODE')).toBe(3);
  });
});

describe('StreamproofError', () => {
  it('serialises to { code, message, details }, keeping the cause out of JSON', () => {
    const cause = new Error('socket hang up');
    const e = new StreamproofError(
      'LOAD_CONNECT_FAILED',
      'cannot list topics',
      { bootstrap: '127.0.0.1:9092' },
      { cause },
    );
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('StreamproofError');
    expect(e.cause).toBe(cause);
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      code: 'LOAD_CONNECT_FAILED',
      message: 'cannot list topics',
      details: { bootstrap: '127.0.0.1:9092' },
    });
    expect(new StreamproofError('INTERNAL', 'x').toJSON()).toEqual({ code: 'INTERNAL', message: 'x', details: {} });
  });

  it('at() names the path or the fault at the start of the message and keeps it in details', () => {
    const p = StreamproofError.at('HISTORY_INVALID_JSON', 'expected an array', { path: 'faults' });
    expect(p.message).toBe('faults: expected an array');
    expect(p.details).toEqual({ path: 'faults' });
    const f = StreamproofError.at('FAULT_APPLY_FAILED', 'latency failed', { faultId: 'x', details: { target: 'sut' } });
    expect(f.message).toBe('x: latency failed');
    expect(f.details).toEqual({ faultId: 'x', target: 'sut' });
    const plain = StreamproofError.at('FAULT_HEAL_FAILED', 'healAll: nope');
    expect(plain.message).toBe('healAll: nope');
    expect(plain.details).toEqual({});
    expect(plain.cause).toBeUndefined();
  });

  it('is what every layer throws, with its exit status', () => {
    const load = thrown(() =>
      resolveLoadOptions({
        bootstrap: '127.0.0.1:9092',
        topic: 't',
        history: new History(),
        rate: 1,
        duration: 1000,
        acksTimeoutMs: 50,
      }),
    );
    expect(load).toBeInstanceOf(StreamproofError);
    expect(load).toMatchObject({ code: 'LOAD_INVALID_OPTION', details: { path: 'load.acksTimeoutMs' } });
    expect((load as Error).message).toMatch(/^load\.acksTimeoutMs: expected /);
    expect(exitCodeFor(load)).toBe(64);

    const slo = thrown(() => parseThresholds({ e2e_p95: ['p95 << 2s'] }, 'scenario.slo'));
    expect(slo).toBeInstanceOf(StreamproofError);
    expect(exitCodeFor(slo)).toBe(64);

    const gen = thrown(() => createBulkGenerator({ users: 0 }));
    expect(gen).toMatchObject({ code: 'invalid-option', details: { path: 'bulk.users' } });
    expect(exitCodeFor(gen)).toBe(64);

    const history = thrown(() => History.fromJSON({ format: 'nope' }));
    expect(history).toMatchObject({ code: 'HISTORY_INVALID_JSON', details: { path: 'format' } });
    expect(exitCodeFor(history)).toBe(3);
  });
});
