/**
 * The harness catches broken pipelines: deliberately broken copy pipelines (test/fixtures/copiers) are each caught
 * with the right anomaly under the kill fault (exit 1), while a correct transactional copier passes the same
 * scenario (exit 0). One shared stack; every run gets its own topics.
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../harness/runner/run.ts';
import { validateScenario } from '../harness/runner/scenario.ts';
import { type StartedStack, startStack } from '../harness/stack/stack.ts';

const out = mkdtempSync(join(tmpdir(), 'streamproof-run-'));

function scenario(copier: string, env: Record<string, string> = {}) {
  return validateScenario({
    name: `copy-${copier}`,
    sut: { command: `node --import tsx test/fixtures/copiers/${copier}.ts`, contract: 'copy', env },
    stack: { brokers: 1, partitions: 6 },
    events: { format: 'json', users: 500, seed: 7 },
    load: { rate: 1000, duration: '14s' },
    // Three kills: a broken copier's bug window is most of each batch (COPIER_WORK_MS), not all of it, so one kill
    // can land between batches; three all missing is well under 1 %.
    faults: [
      { at: '3s', kind: 'kill', target: 'sut', restartAfter: '1s' },
      { at: '7s', kind: 'kill', target: 'sut', restartAfter: '1s' },
      { at: '11s', kind: 'kill', target: 'sut', restartAfter: '1s' },
    ],
    slo: { e2e_latency: ['p(95)<60s'] },
    drain: { quiet: '4s', timeout: '60s' },
  });
}

describe('copy contract under kill -9', () => {
  let stack: StartedStack;
  beforeAll(async () => {
    stack = await startStack({ brokers: 1 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('a correct transactional copier passes: exit 0, nothing lost, duplicated or reordered', async () => {
    const r = await runScenario({ scenario: scenario('transactional'), outDir: join(out, 'ok'), stack });
    expect(r.error).toBeNull();
    expect(r.counts.offered).toBe(14_000);
    expect(r.counts.acked).toBe(r.counts.offered);
    expect(r.counts).toMatchObject({ lost: 0, duplicated: 0, unexpected: 0, reordered: 0, undecodable: 0 });
    expect(r.counts.observed).toBe(r.counts.acked);
    expect(r.faults.filter((f) => f.fault.includes('kill'))).toHaveLength(3);
    expect(r.verdict).toBe('pass');
    expect(r.exitCode).toBe(0);
  });

  it('auto-commit without transactions is caught: exit 1 with duplicated or lost', async () => {
    const r = await runScenario({
      scenario: scenario('autocommit', { COPIER_WORK_MS: '300' }),
      outDir: join(out, 'autocommit'),
      stack,
    });
    expect(r.error).toBeNull();
    expect(r.exitCode).toBe(1);
    expect(r.counts.lost + r.counts.duplicated).toBeGreaterThan(0);
    expect(r.checkers['exactly-once']!.valid).toBe(false);
    expect(r.replay).toContain('--seed 7');
  });

  it('committing offsets before producing is caught: exit 1 with lost', async () => {
    const r = await runScenario({
      scenario: scenario('commit-first', { COPIER_WORK_MS: '300' }),
      outDir: join(out, 'commit-first'),
      stack,
    });
    expect(r.error).toBeNull();
    expect(r.exitCode).toBe(1);
    expect(r.counts.lost).toBeGreaterThan(0);
    expect(r.checkers['exactly-once']!.anomalyTypes).toContain('lost');
  });

  it('writing to a random partition instead of by key is caught: exit 1 with reordered', async () => {
    const r = await runScenario({
      scenario: scenario('random-partition'),
      outDir: join(out, 'random-partition'),
      stack,
    });
    expect(r.error).toBeNull();
    expect(r.exitCode).toBe(1);
    expect(r.counts.reordered).toBeGreaterThan(0);
    expect(r.checkers.order!.anomalyTypes).toContain('reordered');
  });
});
