/**
 * `streamproof run` through the CLI: the issue's scenario JSON runs as written (a `my-copier.js` in the working
 * directory, here a shim over the correct transactional copier), exits 0 and writes result.json with the verdict,
 * per-checker validity, the counts, latency percentiles and the faults with their real times. A broken pipeline
 * exits 1 and prints its seed and the replay command; a bad scenario exits 64 naming the field.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { History } from '../harness/history/index.ts';
import { issueScenario } from './fixtures/issue-scenario.ts';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'streamproof.js');
// The ESM entry of tsx's register API (require.resolve finds its CommonJS twin).
const tsxApi = pathToFileURL(
  createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs'),
).href;

function workdir(copier: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'streamproof-cli-'));
  writeFileSync(join(dir, 'copy-kill.json'), JSON.stringify(issueScenario, null, 2));
  writeFileSync(
    join(dir, 'my-copier.js'),
    `import { register } from '${tsxApi}';\nregister();\nawait import('${pathToFileURL(join(root, 'test', 'fixtures', 'copiers', `${copier}.ts`)).href}');\n`,
  );
  return dir;
}

function run(dir: string, args: string[]) {
  const res = spawnSync(process.execPath, [cli, ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, CI: 'true' },
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

describe('streamproof run (CLI)', () => {
  it('runs the issue scenario as written against a correct copier: exit 0 and a complete result.json', () => {
    const dir = workdir('transactional');
    const r = run(dir, ['run', 'copy-kill.json', '--out', 'out', '--json']);
    const result = JSON.parse(readFileSync(join(dir, 'out', 'result.json'), 'utf8'));
    expect(JSON.parse(r.stdout).verdict).toBe(result.verdict);
    // p95 < 2 s is this scenario's SLO: on a loaded 2-core machine the kill's catch-up may breach it, which is
    // exit 2 (only an SLO breached), never an invariant failure.
    expect([0, 2], r.stderr).toContain(r.code);
    expect(result.checkers['exactly-once'].valid).toBe(true);
    expect(result.checkers.order.valid).toBe(true);
    expect(result.counts).toMatchObject({ lost: 0, duplicated: 0, unexpected: 0, reordered: 0 });
    expect(result.counts.offered).toBe(40_000);
    expect(result.counts.observed).toBe(result.counts.acked);
    for (const k of ['p50Ms', 'p95Ms', 'p99Ms', 'p999Ms', 'maxMs']) expect(result.latency.e2e[k]).toBeGreaterThan(0);
    expect(result.faults.map((f: { fault: string }) => f.fault)).toEqual(['kill', 'latency']);
    for (const f of result.faults) {
      expect(Date.parse(f.healedAt)).toBeGreaterThan(Date.parse(f.startedAt));
    }
    expect(result.seed).toBe(42);
    expect(result.replay).toBe('streamproof run copy-kill.json --seed 42');
    // Every file the result names is complete once the process has exited.
    const history = History.fromJSON(JSON.parse(readFileSync(join(dir, 'out', 'history.json'), 'utf8')));
    expect(history.outcomes.counts().offered).toBe(40_000);
    expect(readFileSync(join(dir, 'out', 'report.html'), 'utf8')).toMatch(/<\/html>\s*$/);
    expect(readFileSync(join(dir, 'out', 'report.md'), 'utf8')).toContain('copy-kill');
  });

  it('a broken copier exits 1 and prints its seed and the command that replays it', () => {
    // Random partitioning breaks per-user order on every run (the kill-window bugs need luck with one kill).
    const dir = workdir('random-partition');
    const r = run(dir, ['run', 'copy-kill.json', '--out', 'out', '--seed', '9']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/FAIL/);
    expect(r.stderr).toContain('seed 9; replay with: streamproof run copy-kill.json --seed 9');
  });

  it('a bad scenario or flag exits 64 and names the field', () => {
    const dir = workdir('transactional');
    writeFileSync(
      join(dir, 'bad.json'),
      JSON.stringify({ ...issueScenario, load: { rate: 2000, duration: 'forever' } }),
    );
    let r = run(dir, ['run', 'bad.json']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('scenario.load.duration: expected a duration like "10s"');
    r = run(dir, ['run', 'copy-kill.json', '--seed', 'x']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--seed');
    r = run(dir, ['run', 'copy-kill.json', '--contract', 'nope']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--contract');
    r = run(dir, ['run', 'missing.json']);
    expect(r.code).toBe(64);
  });

  it('a load option the scenario lets through but the load refuses exits 64, its code kept in result.json', () => {
    // acksTimeout has no bound in the scenario; the load driver wants >= 100 ms. Found once the run has started.
    const dir = workdir('transactional');
    writeFileSync(
      join(dir, 'short-acks.json'),
      JSON.stringify({ ...issueScenario, faults: [], load: { rate: 100, duration: '2s', acksTimeout: '50ms' } }),
    );
    const r = run(dir, ['run', 'short-acks.json', '--out', 'out']);
    expect(r.code, r.stdout + r.stderr).toBe(64);
    const result = JSON.parse(readFileSync(join(dir, 'out', 'result.json'), 'utf8'));
    expect(result).toMatchObject({ verdict: 'unknown', exitCode: 64 });
    expect(result.error).toMatchObject({ code: 'LOAD_INVALID_OPTION', phase: 'load' });
    expect(result.error.message).toMatch(/^load\.acksTimeoutMs: expected /);
  });
});
