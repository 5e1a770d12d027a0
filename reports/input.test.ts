import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StreamproofError } from '../harness/util/errors.ts';
import { fixturePath } from './fixtures.ts';
import { fileLink, loadResult, worstVerdict } from './input.ts';

function usageError(fn: () => unknown): StreamproofError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StreamproofError);
    expect((err as StreamproofError).code).toBe('USAGE');
    return err as StreamproofError;
  }
  throw new Error('expected a USAGE error');
}

describe('loadResult', () => {
  const dir = mkdtempSync(join(tmpdir(), 'streamproof-input-'));
  it('reads a stored result', () => {
    expect(loadResult(fixturePath('copy-kill.json')).format).toBe('streamproof.result/1');
  });
  it('names the file when it is missing, not JSON, or not a result', () => {
    const missing = join(dir, 'nope.json');
    expect(usageError(() => loadResult(missing)).message).toContain(`${missing}: cannot read the result file (ENOENT)`);
    writeFileSync(join(dir, 'bad.json'), '{"format":');
    expect(usageError(() => loadResult(join(dir, 'bad.json'))).message).toMatch(/bad\.json: not JSON/);
    writeFileSync(join(dir, 'other.json'), '{"format":"something/2"}');
    expect(usageError(() => loadResult(join(dir, 'other.json'))).message).toContain(
      'other.json: format: expected "streamproof.result/1", got "something/2"',
    );
    writeFileSync(join(dir, 'partial.json'), '{"format":"streamproof.result/1","name":"x","verdict":"pass"}');
    expect(usageError(() => loadResult(join(dir, 'partial.json'))).message).toContain('partial.json: counts: missing');
  });
});

describe('worstVerdict', () => {
  it('a violated invariant outranks unknown, which outranks an SLO breach; no runs is unknown', () => {
    expect(worstVerdict([{ verdict: 'pass' }, { verdict: 'slo-breach' }])).toBe('slo-breach');
    expect(worstVerdict([{ verdict: 'slo-breach' }, { verdict: 'unknown' }])).toBe('unknown');
    expect(worstVerdict([{ verdict: 'unknown' }, { verdict: 'fail' }, { verdict: 'pass' }])).toBe('fail');
    expect(worstVerdict([{ verdict: 'pass' }])).toBe('pass');
    expect(worstVerdict([])).toBe('unknown');
  });
});

describe('fileLink', () => {
  it('is relative to the report directory when known', () => {
    expect(fileLink('/runs/a/anomalies.json', '/runs/a')).toBe('anomalies.json');
    expect(fileLink('/runs/a/anomalies.json', '/reports')).toBe('../runs/a/anomalies.json');
    expect(fileLink('/runs/a/anomalies.json', undefined)).toBe('/runs/a/anomalies.json');
  });
});
