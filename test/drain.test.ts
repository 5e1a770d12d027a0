/**
 * The drain knows the pipeline: a copier that stops consuming for 50 s after a kill (as a restarted Java consumer
 * waits out the dead member's session) is late, not lost; with a drain.timeout shorter than its recovery the missing
 * records are `unseen` and the verdict `unknown` (exit 3) naming the lag and the setting, never `lost`; a copier that
 * silently drops records and commits past them is caught as `lost` (exit 1). One shared stack.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../harness/runner/run.ts';
import { validateScenario } from '../harness/runner/scenario.ts';
import { type StartedStack, startStack } from '../harness/stack/stack.ts';

const out = mkdtempSync(join(tmpdir(), 'streamproof-drain-'));

function scenario(copier: string, x: { env?: Record<string, string>; drain?: Record<string, string> } = {}) {
  return validateScenario({
    name: `drain-${copier}`,
    sut: { command: `node --import tsx test/fixtures/copiers/${copier}.ts`, contract: 'copy', env: x.env ?? {} },
    stack: { brokers: 1, partitions: 6 },
    events: { format: 'json', users: 300, seed: 11 },
    load: { rate: 500, duration: '8s' },
    faults: [{ at: '3s', kind: 'kill', target: 'sut', restartAfter: '1s' }],
    slo: { e2e_latency: ['p(95)<120s'] },
    ...(x.drain ? { drain: x.drain } : {}),
  });
}

describe('drain', () => {
  let stack: StartedStack;
  beforeAll(async () => {
    stack = await startStack({ brokers: 1 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('a pipeline that stops consuming for 50 s after a kill is waited for: nothing lost, pass', async () => {
    const r = await runScenario({ scenario: scenario('late'), outDir: join(out, 'late'), stack });
    expect(r.error).toBeNull();
    expect(r.counts).toMatchObject({ offered: 4000, acked: 4000, lost: 0, unseen: 0, duplicated: 0 });
    expect(r.counts.observed).toBe(4000);
    expect(r.drain).toMatchObject({ complete: true, evidence: 'committed-offsets', lagAtEnd: 0 });
    // It really was late: the drain waited for the recovery, well past its 5 s of quiet.
    expect(r.drain!.waitedMs).toBeGreaterThan(30_000);
    expect(r.latency.e2e!.maxMs).toBeGreaterThan(40_000);
    expect(r.verdict).toBe('pass');
  });

  it('a drain.timeout shorter than the recovery: unseen, not lost; verdict unknown with the lag and the setting', async () => {
    const r = await runScenario({
      scenario: scenario('late', { env: { COPIER_LATE_MS: '40000' }, drain: { quiet: '3s', timeout: '10s' } }),
      outDir: join(out, 'late-short'),
      stack,
    });
    expect(r.error).toBeNull();
    expect(r.counts.lost).toBe(0);
    expect(r.counts.unseen).toBeGreaterThan(0);
    expect(r.counts.unseen! + r.counts.observed).toBe(4000);
    expect(r.drain).toMatchObject({ complete: false, evidence: 'committed-offsets' });
    expect(r.drain!.lagAtEnd).toBeGreaterThan(0);
    expect(r.checkers['exactly-once']!.valid).toBe('unknown');
    expect(r.checkers['exactly-once']!.reason).toMatch(/unseen/);
    expect(r.notes.join('\n')).toMatch(/input record\(s\) to commit.*raise drain\.timeout/);
    expect(r.verdict).toBe('unknown');
    expect(r.exitCode).toBe(3);
  });

  it('a pipeline that silently drops records and commits past them: lost, exit 1', async () => {
    const r = await runScenario({ scenario: scenario('dropping'), outDir: join(out, 'dropping'), stack });
    expect(r.error).toBeNull();
    expect(r.counts.lost).toBeGreaterThan(40);
    expect(r.counts.lost).toBeLessThan(200);
    expect(r.counts).toMatchObject({ unseen: 0, duplicated: 0 });
    expect(r.drain).toMatchObject({ complete: true, evidence: 'committed-offsets', lagAtEnd: 0 });
    expect(r.checkers['exactly-once']).toMatchObject({ valid: false, anomalyTypes: ['lost'] });
    expect(r.verdict).toBe('fail');
    expect(r.exitCode).toBe(1);
  });

  it('a pipeline that drops records but is cut off by the drain deadline: the ones it committed past are lost', async () => {
    const r = await runScenario({
      scenario: scenario('dropping', { env: { COPIER_WORK_MS: '400' }, drain: { quiet: '2s', timeout: '2s' } }),
      outDir: join(out, 'dropping-cut'),
      stack,
    });
    expect(r.error).toBeNull();
    expect(r.drain!.complete).toBe(false);
    expect(r.counts.lost).toBeGreaterThan(0);
    expect(r.verdict).toBe('fail');
  });
});
