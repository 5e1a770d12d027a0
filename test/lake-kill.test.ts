/**
 * Component targets through the CLI: the reference SUT's lake sink killed (SIGKILL, restarted 1 s later) and then
 * paused for 2 s (`sut:lake`), the collector restarted in between (`sut:collector`, on its port; the load writes to
 * Kafka directly, so it does not depend on it). The run must pass with the lake exact (`lake:attribution`, `lake-analytics`): the
 * restarted sink reads on from its commit log. That the faults really hit the sink is checked against the processes
 * themselves, not the harness's records: /proc is sampled during the run for the lake sink of this run (its
 * STREAMPROOF_LAKE_DIR), which must show two processes (a new pid after the kill) and the second one stopped (state
 * T) during the pause; each process logged `ready` once.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'streamproof.js');

/** The lake sink processes whose STREAMPROOF_LAKE_DIR is `lakeDir`, with their state (R, S, T, ...). */
function lakeSinks(lakeDir: string): { pid: number; state: string }[] {
  const out: { pid: number; state: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      // The node process itself, not lifeline's bash wrapper (whose arguments name the same entry file).
      if (/bash$/.test(argv[0] ?? '') || !argv.some((a) => /reference-pipeline\/lake\/main\.(ts|js)$/.test(a)))
        continue;
      if (!readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`STREAMPROOF_LAKE_DIR=${lakeDir}`)) {
        continue;
      }
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      out.push({ pid: Number(entry), state: stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe('process faults on sut:lake (reference SUT)', () => {
  it('a kill and a pause of the lake sink, a collector restart: the run passes, the lake exact, and a new sink process took over', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'streamproof-lake-kill-'));
    const out = join(dir, 'out');
    const sc = JSON.parse(readFileSync(join(root, 'scenarios', 'smoke.json'), 'utf8'));
    sc.name = 'lake-kill';
    sc.load = { rate: 300, duration: '12s' };
    sc.slo = {};
    sc.faults = [
      { at: '4s', kind: 'kill', target: 'sut:lake', restartAfter: '1s' },
      { at: '6s', kind: 'restart', target: 'sut:collector', for: '500ms' },
      { at: '9s', for: '2s', kind: 'pause', target: 'sut:lake' },
    ];
    const file = join(dir, 'lake-kill.json');
    writeFileSync(file, JSON.stringify(sc));

    const seen = new Map<number, Set<string>>();
    const sample = setInterval(() => {
      for (const p of lakeSinks(join(out, 'lake'))) {
        if (!seen.has(p.pid)) seen.set(p.pid, new Set());
        seen.get(p.pid)!.add(p.state);
      }
    }, 100);
    let stderr = '';
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [cli, 'run', file, '--out', out, '--json'], {
        cwd: dir,
        env: { ...process.env, CI: 'true' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      child.once('error', reject);
      child.once('exit', resolve);
    }).finally(() => clearInterval(sample));

    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    const pids = [...seen.entries()].map(([pid, states]) => `${pid}: ${[...states].join('')}`);
    const why = `exit ${code}: ${JSON.stringify(result.checkers)} ${JSON.stringify(result.error)} pids ${pids}\n${stderr.slice(-3000)}`;
    expect(result.error, why).toBeNull();
    expect(result.verdict, why).toBe('pass');
    expect(code, why).toBe(0);
    for (const c of ['attribution', 'lake:attribution', 'lake-analytics']) {
      expect(result.checkers[c]?.valid, `${c}: ${why}`).toBe(true);
    }
    expect(result.lake.rows, why).toBeGreaterThan(0);
    expect(result.lake.problems, why).toEqual([]);
    // Recorded as written, and shown so in the report.
    expect(
      result.faults
        .map((f: { fault: string; target: string; healedAt: string | null }) => [
          f.fault,
          f.target,
          f.healedAt !== null,
        ])
        .sort(),
      why,
    ).toEqual([
      ['kill', 'sut:lake', true],
      ['pause', 'sut:lake', true],
      ['restart', 'sut:collector', true],
    ]);
    expect(result.faultSchedule.errors, why).toEqual([]);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/\|\s*kill\s*\|\s*sut:lake\s*\|/);

    // The processes: the kill replaced the sink (two pids, the first gone), the pause stopped the second one.
    expect(seen.size, why).toBe(2);
    const [, second] = [...seen.values()];
    expect([...second!], why).toContain('T');
    const log = readFileSync(join(out, 'sut', 'lake.log'), 'utf8');
    const lines = log
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; commit?: number });
    expect(lines.filter((l) => l.msg === 'ready').length, log.slice(-3000)).toBe(2);
    // The second sink read on from a commit of the first; the first never logged a shutdown (SIGKILL).
    const resumed = lines.filter((l) => l.msg === 'resuming');
    expect(resumed.at(-1)?.commit, log.slice(-3000)).toBeGreaterThan(0);
    expect(
      lines.findIndex((l) => l.msg === 'stopping'),
      log.slice(-3000),
    ).toBeGreaterThan(lines.findLastIndex((l) => l.msg === 'ready'));
  }, 180_000);
});
