/**
 * `streamproof certify` on the real stack: a one-scenario suite of the reference pipeline is certified once as the
 * baseline, then twice more as candidates built wrong on purpose, and the comparison must flag exactly what was
 * broken:
 * - an injected duplicate (the attributor of test/fixtures/reference/duplicating-attributor.ts, run in place of the
 *   shipped one by STREAMPROOF_REFERENCE_ATTRIBUTOR, through the CLI): exit 1, and the regressions are the
 *   `duplicated` count and the attribution checker, nothing about throughput or latency;
 * - a slower build (STREAMPROOF_ATTRIBUTOR_COMMIT_DELAY_MS=3000: every batch waits 3 s before it commits): exit 1,
 *   and only latency rows flag; the run itself still passes.
 * The three share one `stack up` stack (a private state directory), so only the first run pays a stack start.
 *
 * Latency on a shared 2-core machine moves by 2-3x between identical runs (the first run on a fresh stack is the
 * slowest), so this suite's tolerances are wide (latency +100% and +1 s) and the slow build's delay is large: the
 * test is about which rows flag, not about a threshold close to the noise.
 *
 * Bad flags, a missing suite, a baseline without certification.json: exit 64 naming the flag, before anything runs.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Certification,
  certify,
  DEFAULT_TOLERANCES,
  loadBaseline,
  loadSuite,
  resolveTolerances,
} from '../harness/certify/index.ts';
import { certifyCommand } from '../harness/cli/certify-command.ts';
import { attachStack } from '../harness/stack/attach.ts';
import { exitCodeFor, type StreamproofError } from '../harness/util/errors.ts';
import { certificationReports as reports } from '../reports/certify.ts';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'streamproof.js');
const dir = mkdtempSync(join(tmpdir(), 'streamproof-certify-'));
const state = join(dir, 'state');
const suiteDir = join(dir, 'suite');

const scenario = {
  name: 'tiny',
  description: 'The reference attribution pipeline, 8 s at 300 events/s, no faults.',
  sut: { command: 'reference', contract: 'attribution', instances: 1 },
  stack: { brokers: 1, partitions: 4 },
  events: { format: 'avro', users: 200, seed: 5 },
  load: { rate: 300, duration: '8s' },
  // Generous: an SLO breach of the slow build would flag the slo checker too, and this test is about the rows.
  slo: { e2e_latency: ['p(95)<60s'] },
  // Longer than the slow build's 3 s between commits, so its drain does not end between two of them.
  drain: { quiet: '5s', timeout: '60s' },
};

function writeSuite(at: string, suiteFile: unknown): void {
  mkdirSync(at, { recursive: true });
  writeFileSync(join(at, 'tiny.json'), JSON.stringify(scenario, null, 2));
  if (suiteFile !== undefined) writeFileSync(join(at, 'certify.json'), JSON.stringify(suiteFile, null, 2));
}

function runCli(args: string[], env: Record<string, string> = {}) {
  const res = spawnSync(process.execPath, [cli, ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, STREAMPROOF_STATE: state, CI: 'true', ...env },
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** What `streamproof certify <argv>` exits with when it throws before running anything. */
async function usageError(argv: string[]): Promise<{ code: number; message: string }> {
  try {
    await certifyCommand.run(argv);
  } catch (err) {
    return { code: exitCodeFor(err), message: (err as StreamproofError).message };
  }
  throw new Error(`certify ${argv.join(' ')} did not fail`);
}

const readCert = (out: string): Certification =>
  JSON.parse(readFileSync(join(out, 'certification.json'), 'utf8')) as Certification;
const regressions = (c: Certification) => c.comparison!.regressions.map((r) => r.metric).sort();

describe('streamproof certify: bad usage exits 64 naming the flag, before anything runs', () => {
  beforeAll(() => {
    writeSuite(suiteDir, {
      scenarios: ['tiny.json'],
      tolerances: { throughputPct: 40, latencyPct: 100, latencyFloorMs: 1000 },
    });
  });

  it('tolerances, seed, stack and positional arguments', async () => {
    const cases: [string[], RegExp][] = [
      [['--suite', suiteDir, '--tolerance-latency', 'fast'], /^--tolerance-latency: expected a percentage/],
      [['--suite', suiteDir, '--tolerance-throughput', '150'], /^--tolerance-throughput: .*<= 100/],
      [['--suite', suiteDir, '--tolerance-throughput=-5%'], /^--tolerance-throughput: expected a percentage/],
      [['--suite', suiteDir, '--tolerance-latency-floor', '2.5'], /^--tolerance-latency-floor: expected an integer/],
      [['--suite', suiteDir, '--seed', 'x'], /^--seed: /],
      [['--suite', suiteDir, '--stack', 'yours'], /^--stack: expected own .* or running/],
      [['--suite', suiteDir, 'extra.json'], /^certify: unexpected argument "extra.json"/],
      [['--suite', suiteDir, '--nope'], /Unknown option '--nope'/],
    ];
    for (const [argv, message] of cases) {
      const e = await usageError(argv);
      expect(e.code, argv.join(' ')).toBe(64);
      expect(e.message, argv.join(' ')).toMatch(message);
    }
  });

  it('a missing suite, a bad suite file, a baseline that is not a certification', async () => {
    expect(await usageError(['--suite', join(dir, 'missing')])).toEqual({
      code: 64,
      message: `--suite: ${join(dir, 'missing')}: no such directory (a suite is a directory of scenarios)`,
    });
    const bad = join(dir, 'bad-suite');
    writeSuite(bad, { tolerances: { latencyPct: 'lots' } });
    expect(await usageError(['--suite', bad])).toMatchObject({
      code: 64,
      message: `${join(bad, 'certify.json')}: tolerances.latencyPct: expected a number >= 0, got "lots"`,
    });
    const badScenario = join(dir, 'bad-scenario');
    writeSuite(badScenario, { scenarios: ['tiny.json', 'gone.json'] });
    expect((await usageError(['--suite', badScenario])).message).toBe(
      `${join(badScenario, 'certify.json')}: scenarios[1]: no such file ${join(badScenario, 'gone.json')}`,
    );

    const notABaseline = join(dir, 'not-a-baseline');
    mkdirSync(notABaseline, { recursive: true });
    expect(await usageError(['--suite', suiteDir, '--baseline', notABaseline])).toEqual({
      code: 64,
      message: `--baseline: ${notABaseline}: no certification.json; a baseline is the --out directory of an earlier \`streamproof certify\``,
    });
    writeFileSync(join(notABaseline, 'certification.json'), JSON.stringify({ format: 'streamproof.result/1' }));
    expect((await usageError(['--suite', suiteDir, '--baseline', notABaseline])).message).toMatch(
      /^--baseline: .*certification.json: format: expected "streamproof.certification\/1"/,
    );
    expect((await usageError(['--suite', suiteDir, '--baseline', join(dir, 'nowhere')])).message).toMatch(
      /^--baseline: .*nowhere: no such directory/,
    );
    expect(
      (await usageError(['--suite', suiteDir, '--baseline', notABaseline, '--out', notABaseline])).message,
    ).toMatch(/^--out: .* is the baseline directory/);
  });

  it('through the CLI: exit 64 and the message on stderr', () => {
    const r = runCli(['certify', '--suite', suiteDir, '--tolerance-latency', 'fast']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--tolerance-latency: expected a percentage');
  });

  it('the shipped suite loads, and docs/ci.md shows the workflow of docs/examples/certify.yml verbatim', async () => {
    const shipped = await loadSuite(join(root, 'scenarios', 'certify'));
    expect(shipped.entries.map((e) => e.name)).toEqual(['steady', 'attributor-kill']);
    const yml = readFileSync(join(root, 'docs', 'examples', 'certify.yml'), 'utf8');
    const doc = readFileSync(join(root, 'docs', 'ci.md'), 'utf8');
    expect(doc).toContain(`\`\`\`yaml\n${yml}\`\`\``);
  });

  it('the suite file sets tolerances, flags override them', async () => {
    const suite = await loadSuite(suiteDir);
    expect(suite.entries.map((e) => e.name)).toEqual(['tiny']);
    expect(suite.tolerances).toEqual({ throughputPct: 40, latencyPct: 100, latencyFloorMs: 1000 });
    expect(resolveTolerances({ latencyPct: 30 }, 'x', { ...DEFAULT_TOLERANCES, ...suite.tolerances })).toEqual({
      throughputPct: 40,
      latencyPct: 30,
      latencyFloorMs: 1000,
    });
  });
});

describe('streamproof certify against a baseline (real stack, reference pipeline)', () => {
  const savedState = process.env.STREAMPROOF_STATE;

  beforeAll(() => {
    writeSuite(suiteDir, {
      scenarios: ['tiny.json'],
      tolerances: { throughputPct: 40, latencyPct: 100, latencyFloorMs: 1000 },
    });
    const up = runCli(['stack', 'up', '--json']);
    expect(up.code, up.stderr).toBe(0);
    process.env.STREAMPROOF_STATE = state;
  });

  afterAll(() => {
    if (savedState === undefined) delete process.env.STREAMPROOF_STATE;
    else process.env.STREAMPROOF_STATE = savedState;
    runCli(['stack', 'down']);
  });

  it('flags exactly the injected duplicate, then exactly the latency of a slower build', async () => {
    const suite = await loadSuite(suiteDir);
    const tolerances = resolveTolerances(suite.tolerances);
    const stack = attachStack();

    // The baseline: the reference pipeline as it is. No baseline of its own: nothing compared.
    const baseOut = join(dir, 'baseline');
    const base = await certify({ suite, outDir: baseOut, tolerances, stack, reports });
    expect(base.certification.exitCode, JSON.stringify(base.certification.runs)).toBe(0);
    expect(base.certification).toMatchObject({
      format: 'streamproof.certification/1',
      verdict: 'pass',
      regressed: null,
      comparison: null,
      runs: [{ scenario: 'tiny', verdict: 'pass', seed: 5, result: 'tiny/result.json' }],
    });
    for (const f of ['certification.json', 'certification.md', 'certification.html', 'junit.xml']) {
      expect(existsSync(join(baseOut, f)), f).toBe(true);
    }

    // A baseline is an artifact: it must work wherever it was unpacked.
    const moved = join(dir, 'downloaded-baseline');
    cpSync(baseOut, moved, { recursive: true });
    expect([...loadBaseline(moved).results.keys()]).toEqual(['tiny']);

    // Candidate 1, through the CLI: every 100th attribution record of a partition written twice.
    const dupOut = join(dir, 'duplicate');
    const r = runCli(
      ['certify', '--suite', suiteDir, '--baseline', moved, '--out', dupOut, '--stack', 'running', '--json'],
      {
        STREAMPROOF_REFERENCE_ATTRIBUTOR: join(root, 'test', 'fixtures', 'reference', 'duplicating-attributor.ts'),
        STREAMPROOF_DUPLICATE_EVERY: '100',
      },
    );
    expect(r.code, r.stderr).toBe(1);
    const dup = readCert(dupOut);
    expect(JSON.parse(r.stdout)).toEqual(dup);
    expect(dup).toMatchObject({ verdict: 'fail', exitCode: 1, regressed: true, runs: [{ verdict: 'fail' }] });
    // The lake sink writes the duplicates too: the lake's own checkers regress with the topic's.
    expect(regressions(dup)).toEqual([
      'anomalies.duplicated',
      'checker.attribution',
      'checker.lake-analytics',
      'checker.lake:attribution',
    ]);
    const dupResult = JSON.parse(readFileSync(join(dupOut, 'tiny', 'result.json'), 'utf8'));
    expect(dupResult.counts.duplicated).toBeGreaterThan(0);
    const dupRow = dup.comparison!.scenarios[0]!.rows.find((x) => x.metric === 'anomalies.duplicated')!;
    expect(dupRow).toMatchObject({ baseline: 0, candidate: dupResult.counts.duplicated, verdict: 'regression' });
    expect(r.stderr).toContain('"phase":"certify","message":"[1/1] tiny: FAIL (exit 1) in');
    // The reports carry the comparison: Markdown rows, HTML rows with their verdicts, JUnit failures.
    const md = readFileSync(join(dupOut, 'certification.md'), 'utf8');
    expect(md).toMatch(/\| anomalies\.duplicated \| 0 \| \d+ \| \+\d+ \| \*\*REGRESSION\*\* \(any rise\) \|/);
    expect(md).toMatch(/\| latency\.e2e_p95_ms \|.*\| (ok|improved) \|/);
    const html = readFileSync(join(dupOut, 'certification.html'), 'utf8');
    expect(html).toContain('<tr data-metric="anomalies.duplicated" data-verdict="regression"');
    expect((html.match(/data-verdict="regression"/g) ?? []).length).toBe(4);
    const junit = readFileSync(join(dupOut, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testsuite name="certify.baseline" tests="\d+" failures="4"/);
    expect(junit).toContain('name="tiny: anomalies.duplicated"');

    // Candidate 2, through the library: every batch holds its transaction 3 s before committing.
    const slowOut = join(dir, 'slow');
    process.env.STREAMPROOF_ATTRIBUTOR_COMMIT_DELAY_MS = '3000';
    let slow: Certification;
    try {
      slow = (await certify({ suite, outDir: slowOut, tolerances, stack, reports, baseline: loadBaseline(baseOut) }))
        .certification;
    } finally {
      delete process.env.STREAMPROOF_ATTRIBUTOR_COMMIT_DELAY_MS;
    }
    expect(slow.runs[0]!.verdict, JSON.stringify(slow.runs)).toBe('pass');
    expect(slow).toMatchObject({ verdict: 'fail', exitCode: 1, regressed: true });
    const flagged = regressions(slow);
    expect(flagged.length, JSON.stringify(slow.comparison)).toBeGreaterThan(0);
    for (const m of flagged) expect(m).toMatch(/^latency\.e2e_p9[59]_ms$/);
    expect(readCert(slowOut)).toEqual(slow);
  });
});
