import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../runner/result.ts';
import '../../vitest.ts';
import { toBeExactlyOnce, toKeepOrder, toMeetSlo, toPass } from './matchers.ts';

const dir = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'results');
const file = (name: string) => join(dir, `${name}.json`);
const load = (name: string) => JSON.parse(readFileSync(file(name), 'utf8')) as RunResult;

/** chaos-matrix (a pass) with duplicated and reordered records, as a checker would have reported them. */
function broken(): RunResult {
  const r = load('chaos-matrix');
  return {
    ...r,
    verdict: 'fail',
    exitCode: 1,
    counts: { ...r.counts, duplicated: 5, reordered: 2 },
    checkers: {
      ...r.checkers,
      'exactly-once': { valid: false, anomalyTypes: ['duplicated'] },
      order: { valid: false, anomalyTypes: ['reordered'] },
    },
    anomalies: {
      ...r.anomalies,
      duplicated: [
        { id: 'p0:11', times: 2 },
        { id: 'p0:12', times: 2 },
        { id: 'p1:3', times: 2 },
        { id: 'p1:4', times: 2 },
      ],
      reordered: [{ key: 'user-7', before: 'p0:20', after: 'p0:19' }],
    },
  };
}

describe('streamproof/vitest matchers on stored results', () => {
  it('a passing run passes all four, from the object or its result.json path', () => {
    const r = load('chaos-matrix');
    expect(r).toBeExactlyOnce();
    expect(r).toKeepOrder();
    expect(r).toMeetSlo();
    expect(r).toPass();
    expect(file('chaos-matrix')).toPass();
  });

  it('lost records: toBeExactlyOnce fails naming them, with examples, the seed, the replay command and result.json', () => {
    const r = load('copy-kill-autocommit');
    const m = toBeExactlyOnce(r);
    expect(m.pass).toBe(false);
    const msg = m.message();
    expect(msg).toMatch(/^expected run "copy-kill" to be exactly once, but:/);
    expect(msg).toContain('lost: 171 (e.g. ');
    expect(msg).toContain(`${r.anomalies.lost.slice(0, 3).join(', ')}, ...; all in /tmp/sp-fail/anomalies.json)`);
    expect(msg).not.toContain(r.anomalies.lost[3]!);
    expect(msg).toContain('checker exactly-once: false (lost)');
    expect(msg).toContain('seed: 42');
    expect(msg).toContain(`replay: ${r.replay}`);
    expect(msg).toContain('result: /tmp/sp-fail/result.json');
    expect(() => expect(r).toBeExactlyOnce()).toThrow(/lost: 171/);
    expect(r).not.toBeExactlyOnce();
    // Order held in that run; its SLO did not.
    expect(r).toKeepOrder();
    expect(() => expect(r).toMeetSlo()).toThrow(/e2e_latency: p\(95\)<2s breached: 18038.783ms, limit 2000ms/);
    expect(() => expect(r).toPass()).toThrow(/checker slo: false \(slo-breach\)/);
  });

  it('duplicated and reordered records: examples of each, at most three', () => {
    const r = broken();
    const once = toBeExactlyOnce(r).message();
    expect(once).toContain(
      'duplicated: 5 (e.g. {"id":"p0:11","times":2}, {"id":"p0:12","times":2}, {"id":"p1:3","times":2}, ...',
    );
    expect(once).not.toContain('p1:4');
    expect(toKeepOrder(r).pass).toBe(false);
    expect(toKeepOrder(r).message()).toContain('reordered: 2 (e.g. {"key":"user-7","before":"p0:20","after":"p0:19"}');
    expect(() => expect(r).toKeepOrder()).toThrow(/reordered: 2/);
  });

  it('an SLO breach alone: exactly once and in order, but not meeting the SLO nor passing', () => {
    const r = load('copy-kill');
    expect(r).toBeExactlyOnce();
    expect(r).toKeepOrder();
    expect(r).not.toMeetSlo();
    expect(r).not.toPass();
    expect(toPass(r).message()).toContain('verdict: slo-breach (exit 2)');
  });

  it('an unknown verdict proves nothing: every matcher fails and says why the run could not decide', () => {
    const r = load('sut-exits');
    for (const m of [toBeExactlyOnce, toKeepOrder, toMeetSlo, toPass]) {
      const o = m(r);
      expect(o.pass).toBe(false);
      expect(o.message()).toContain('verdict: unknown (exit 3)');
    }
    const msg = toBeExactlyOnce(r).message();
    expect(msg).toContain('the verdict is unknown: the run could not decide');
    expect(msg).toContain('harness error: STACK_START_FAILED: sut:0 exited before it was ready');
  });

  it('not a result: a readable failure, never a crash', () => {
    expect(toBeExactlyOnce({ hello: 1 }).message()).toMatch(
      /expected a streamproof RunResult .* got an object with keys hello/,
    );
    expect(toPass(42).pass).toBe(false);
    expect(toPass(join(dir, 'missing.json')).message()).toMatch(/^expected a streamproof result, but /);
    expect(() => expect(undefined).toPass()).toThrow(/got undefined/);
  });

  it('.not on a passing run says it passed', () => {
    const r = load('chaos-matrix');
    expect(() => expect(r).not.toBeExactlyOnce()).toThrow(
      /expected run "chaos-matrix" not to be exactly once, but it does/,
    );
  });
});
