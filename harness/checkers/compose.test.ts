import { describe, expect, it } from 'vitest';
import { History } from '../history/index.ts';
import { compose, EXIT_CODES, runCheckers, verdictOf } from './compose.ts';
import type { Checker, CheckerResult } from './types.ts';

const fixed = (name: string, result: CheckerResult): Checker => ({ name, check: () => result });
const pass: CheckerResult = { valid: true, anomalyTypes: [] };
const lost: CheckerResult = { valid: false, anomalyTypes: ['lost'] };
const breach: CheckerResult = { valid: false, anomalyTypes: ['slo-breach'] };
const unknown: CheckerResult = { valid: 'unknown', anomalyTypes: [] };

describe('runCheckers', () => {
  it('a checker that throws gives unknown with the error, never a pass', () => {
    const boom: Checker = {
      name: 'boom',
      check: () => {
        throw new RangeError('index out of range');
      },
    };
    const r = runCheckers(new History(), [fixed('ok', pass), boom]);
    expect(r.results.boom).toMatchObject({
      valid: 'unknown',
      error: { code: 'CHECKER_THREW', message: 'checker "boom" threw RangeError: index out of range' },
    });
    expect(r.verdict).toBe('unknown');
    expect(r.exitCode).toBe(3);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('keeps the stable code of what the checker threw', () => {
    const corrupt: Checker = {
      name: 'reads-file',
      check: () => History.fromJSON({ format: 'nope' }) as never,
    };
    const r = runCheckers(new History(), [corrupt]);
    expect(r.results['reads-file']!.error!.message).toContain('threw StreamproofError [HISTORY_INVALID_JSON]');
  });

  it('a checker that returns garbage gives unknown', () => {
    const r = runCheckers(new History(), [fixed('weird', { valid: 'yes' } as unknown as CheckerResult)]);
    expect(r.results.weird).toMatchObject({ valid: 'unknown', error: { code: 'CHECKER_INVALID_RESULT' } });
  });

  it('verdicts and exit codes', () => {
    expect(verdictOf([pass, pass])).toBe('pass');
    expect(verdictOf([pass, lost, breach, unknown])).toBe('fail');
    expect(verdictOf([pass, breach])).toBe('slo-breach');
    expect(verdictOf([pass, breach, unknown])).toBe('unknown');
    expect(verdictOf([pass, unknown])).toBe('unknown');
    expect(verdictOf([{ valid: false, anomalyTypes: [] }])).toBe('fail');
    expect(verdictOf([])).toBe('pass');
    expect(EXIT_CODES).toEqual({ pass: 0, fail: 1, 'slo-breach': 2, unknown: 3 });
    const r = runCheckers(new History(), [fixed('a', lost), fixed('b', breach)]);
    expect(r).toMatchObject({ verdict: 'fail', exitCode: 1, valid: false, anomalyTypes: ['lost', 'slo-breach'] });
  });

  it('refuses two checkers with one name', () => {
    expect(() => compose([fixed('x', pass), fixed('x', pass)])).toThrowError(
      expect.objectContaining({ code: 'CHECKER_DUPLICATE_NAME' }),
    );
  });
});
