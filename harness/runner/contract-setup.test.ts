import { describe, expect, it } from 'vitest';
import { StreamproofError } from '../util/errors.ts';
import { outputsInMemory } from './contract-setup.ts';

describe('STREAMPROOF_JUDGE_OUTPUTS_IN_MEMORY', () => {
  it('unset or empty: the default; a whole number: taken', () => {
    expect(outputsInMemory({})).toBeUndefined();
    expect(outputsInMemory({ STREAMPROOF_JUDGE_OUTPUTS_IN_MEMORY: ' ' })).toBeUndefined();
    expect(outputsInMemory({ STREAMPROOF_JUDGE_OUTPUTS_IN_MEMORY: '0' })).toBe(0);
    expect(outputsInMemory({ STREAMPROOF_JUDGE_OUTPUTS_IN_MEMORY: '250000' })).toBe(250_000);
  });
  it.each(['-1', '1.5', 'lots', '1e400'])('%s is bad input (exit 64) naming the variable', (raw) => {
    const err = (() => {
      try {
        outputsInMemory({ STREAMPROOF_JUDGE_OUTPUTS_IN_MEMORY: raw });
      } catch (e) {
        return e;
      }
    })() as StreamproofError;
    expect(err).toBeInstanceOf(StreamproofError);
    expect(err.exit).toBe(64);
    expect(err.message).toMatch(/^STREAMPROOF_JUDGE_OUTPUTS_IN_MEMORY: expected a whole number/);
  });
});
