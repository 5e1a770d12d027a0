/**
 * The lake checked in a run: `--sut reference` with a lake sink broken on purpose
 * (test/fixtures/reference/lossy-lake.ts: every third flush commits an attributions file that never landed). The
 * output topic is exact, so the run's `attribution` checker passes; the lake's own checkers catch it: the commit log
 * names a missing file (a lake problem in result.json), its rows are `lost` to `lake:attribution`, and the lake's
 * DuckDB analytics differ from the model's (`lake-analytics`: mismatch). Exit 1, with the replay command. The correct
 * sink passing the same checks is shown by test/bad-events.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'streamproof.js');

describe('a lake sink that commits files that never landed', () => {
  it('is caught by the lake checkers while the output topic passes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'streamproof-lake-run-'));
    const sc = JSON.parse(readFileSync(join(root, 'scenarios', 'smoke.json'), 'utf8'));
    sc.name = 'lossy-lake';
    sc.load = { rate: 300, duration: '10s' };
    sc.slo = {};
    const file = join(dir, 'lossy-lake.json');
    writeFileSync(file, JSON.stringify(sc));
    const res = spawnSync(process.execPath, [cli, 'run', file, '--out', join(dir, 'out'), '--json'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 300_000,
      env: {
        ...process.env,
        CI: 'true',
        STREAMPROOF_REFERENCE_LAKE: join(root, 'test', 'fixtures', 'reference', 'lossy-lake.ts'),
      },
    });
    const result = JSON.parse(readFileSync(join(dir, 'out', 'result.json'), 'utf8'));
    const why = `exit ${res.status}: ${JSON.stringify(result.checkers)} ${JSON.stringify(result.lake)}\n${res.stderr.slice(-3000)}`;
    expect(result.error, why).toBeNull();
    expect(res.status, why).toBe(1);
    expect(result.checkers.attribution.valid, why).toBe(true);
    expect(result.checkers['lake:attribution'].anomalyTypes, why).toContain('lost');
    expect(result.checkers['lake-analytics'].anomalyTypes, why).toEqual(['mismatch']);
    expect(
      result.lake.problems.map((p: { kind: string }) => p.kind),
      why,
    ).toContain('missing-file');
    expect(result.replay, why).toContain('--seed 11');
    expect(res.stderr).toContain('replay');
  });
});
