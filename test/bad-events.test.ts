/**
 * Bad input and the dead-letter queue, through the CLI against the reference pipeline: `scenarios/bad-events.json`
 * mixes 2% bad events (the `badEvent` arbitrary's decode kinds) into Avro load and kills the attributor 5 s in.
 * Every bad event must be dead-lettered exactly once with a reason (the accounting checker), none in the output or
 * the lake, every good one attributed exactly once in the topic and in the committed Parquet files, and the lake's
 * DuckDB analytics equal to the model's. The same run with the scenario naming a reason header the pipeline does not
 * write fails with `dlq-unexpected` (a dead letter without a reason): the checker can fail.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'streamproof.js');
const scenario = join(root, 'scenarios', 'bad-events.json');

function run(file: string, dir: string) {
  const res = spawnSync(process.execPath, [cli, 'run', file, '--out', join(dir, 'out'), '--json'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 400_000,
    env: { ...process.env, CI: 'true' },
  });
  const result = JSON.parse(readFileSync(join(dir, 'out', 'result.json'), 'utf8'));
  const why = `exit ${res.status}: ${JSON.stringify(result.checkers)} ${JSON.stringify(result.dlq)}\n${res.stderr.slice(-3000)}`;
  return { code: res.status, result, why, dir };
}

describe('bad events and the dead-letter queue (reference pipeline, kill -9)', () => {
  it('scenarios/bad-events.json: every bad event dead-lettered once with a reason; output and lake exact', () => {
    const r = run(scenario, mkdtempSync(join(tmpdir(), 'streamproof-bad-')));
    expect(r.result.error, r.why).toBeNull();
    for (const c of ['attribution', 'accounting', 'lake:attribution', 'lake-analytics', 'order', 'schema']) {
      expect(r.result.checkers[c]?.valid, `${c}: ${r.why}`).toBe(true);
    }
    expect([0, 2], r.why).toContain(r.code);
    const d = r.result.dlq;
    // 2% of 3 600 slots, seeded: about 72 bad events, every one acked and dead-lettered once.
    expect(d.counts.bad, r.why).toBeGreaterThan(30);
    expect(d.counts, r.why).toMatchObject({ missing: 0, duplicated: 0, unexpected: 0, inOutput: 0 });
    expect(d.counts.deadLettered, r.why).toBe(d.counts.bad);
    expect(Object.values(d.byReason as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(d.counts.dlqRecords);
    expect(r.result.lake.rows, r.why).toBeGreaterThan(0);
    expect(r.result.lake.problems, r.why).toEqual([]);
    const md = readFileSync(join(r.dir, 'out', 'report.md'), 'utf8');
    expect(md).toMatch(/Dead-letter queue: .*dead-lettered once.*by reason: /);
    expect(md).toMatch(/Lake: .*committed row/);
  });

  it('a reason header the pipeline does not write: dlq-unexpected, exit 1, with the replay command', () => {
    const dir = mkdtempSync(join(tmpdir(), 'streamproof-bad-'));
    const sc = JSON.parse(readFileSync(scenario, 'utf8'));
    sc.faults = [];
    sc.sut.dlq.reason = 'header:x-reason-we-never-write';
    const file = join(dir, 'wrong-reason.json');
    writeFileSync(file, JSON.stringify(sc));
    const r = run(file, dir);
    expect(r.code, r.why).toBe(1);
    expect(r.result.checkers.accounting.anomalyTypes, r.why).toEqual(['dlq-unexpected']);
    expect(r.result.dlq.counts.unexpected, r.why).toBe(r.result.dlq.counts.bad);
    expect(r.result.checkers.attribution.valid, r.why).toBe(true);
    expect(r.result.replay).toContain('--seed 23');
  });
});
