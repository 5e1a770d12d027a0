/**
 * A harness failure is never exit 1. A failure injected into each phase of a run (stack, SUT start, readiness, load,
 * faults, drain, checkers, reports), as an exception, an uncaught exception from an event handler, or an unhandled
 * rejection, gives exit 3, verdict unknown, and a readable result.json that names the phase, the error and the
 * logs; the failing run prints its seed and replay command, heals every fault (no toxic left on any proxy) and leaves
 * no SUT process behind. The runs attach to one stack started with `streamproof stack up`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'streamproof.js');
const dir = mkdtempSync(join(tmpdir(), 'streamproof-failures-'));
const stateEnv = { ...process.env, CI: 'true', STREAMPROOF_STATE: join(dir, 'state') };

const scenario = {
  name: 'failures',
  sut: { command: 'node --import tsx test/fixtures/copiers/transactional.ts', contract: 'copy', cwd: root },
  stack: { brokers: 1, partitions: 3 },
  events: { format: 'json', users: 100, seed: 5 },
  load: { rate: 300, duration: '4s' },
  faults: [{ at: '500ms', for: '20s', kind: 'latency', target: 'sut->kafka', latencyMs: 50 }],
  slo: { e2e_latency: ['p(95)<30s'] },
  drain: { quiet: '2s', timeout: '30s' },
};

function streamproof(args: string[], prefix: string[] = []) {
  const res = spawnSync(process.execPath, [...prefix, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 240_000,
    env: stateEnv,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** Processes whose environment carries this marker (the SUT instances of one run). */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(marker)) pids.push(Number(pid));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

async function toxics(api: string): Promise<number> {
  const proxies = (await (await fetch(`${api}/proxies`)).json()) as Record<string, { toxics: unknown[] }>;
  return Object.values(proxies).reduce((n, p) => n + p.toxics.length, 0);
}

describe('a harness failure in any phase is verdict unknown, exit 3', () => {
  let toxiproxyApi = '';
  beforeAll(() => {
    writeFileSync(join(dir, 'scenario.json'), JSON.stringify(scenario));
    execFileSync(process.execPath, [cli, 'stack', 'up'], { cwd: dir, env: stateEnv, stdio: 'ignore' });
    const status = JSON.parse(
      execFileSync(process.execPath, [cli, 'stack', 'status', '--json'], { cwd: dir, env: stateEnv, encoding: 'utf8' }),
    );
    toxiproxyApi = status.toxiproxy.api;
  });
  afterAll(() => {
    execFileSync(process.execPath, [cli, 'stack', 'down'], { cwd: dir, env: stateEnv, stdio: 'ignore' });
  });

  const cases: [string, 'throw' | 'uncaught' | 'rejection' | 'later'][] = [
    ['stack', 'throw'],
    ['sut', 'throw'],
    ['ready', 'uncaught'],
    ['load', 'throw'],
    ['load', 'uncaught'],
    ['faults', 'throw'],
    ['faults', 'later'],
    ['drain', 'rejection'],
    ['checkers', 'throw'],
    ['reports', 'throw'],
  ];
  it.each(cases)('%s: %s', async (phase, how) => {
    const marker = `STREAMPROOF_TEST_MARK=${phase}-${how}`;
    const out = join(dir, `${phase}-${how}`);
    const file = join(dir, `${phase}-${how}.json`);
    writeFileSync(
      file,
      JSON.stringify({ ...scenario, sut: { ...scenario.sut, env: { STREAMPROOF_TEST_MARK: `${phase}-${how}` } } }),
    );
    const r = streamproof(
      [phase, how, 'run', file, '--stack', 'running', '--out', out],
      ['--import', 'tsx', join(root, 'test', 'fixtures', 'failing-cli.ts')],
    );
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(existsSync(join(out, 'result.json'))).toBe(true);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(result.verdict).toBe('unknown');
    expect(result.exitCode).toBe(3);
    expect(result.error.phase).toBe(phase);
    expect(result.error.message).toContain(`injected ${how} in phase ${phase}`);
    expect(result.error.logs.dir).toBe(out);
    if (!['stack', 'sut'].includes(phase)) expect(result.error.logs.sut[0].file).toMatch(/sut-0\.log$/);
    expect(r.stdout).toContain(`harness error in phase ${phase}`);
    expect(r.stderr).toContain(`seed 5; replay with: streamproof run ${file} --stack running --seed 5`);
    // The reports that could be written say it too; the fault is healed and the SUT is gone.
    if (phase !== 'reports') expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain(`in phase ${phase}`);
    if (how === 'later') {
      // It failed while the latency toxic was on: the fault started, and the run healed it on the way out.
      expect(result.faults.map((f: { fault: string }) => f.fault)).toEqual(['latency']);
    }
    expect(await toxics(toxiproxyApi)).toBe(0);
    expect(processesWith(marker)).toEqual([]);
  });

  it('an uncaught error outside any run is exit 3 too, never 1', () => {
    const r = streamproof(
      [
        '-e',
        "import('./harness/cli/main.ts').then(m => { m.cli(['doctor', '--json']); setTimeout(() => { throw new TypeError('boom outside a run'); }, 0); })",
      ],
      ['--import', 'tsx'],
    );
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('boom outside a run');
  });
});
