/**
 * The certification's own logic without a stack: suites, baselines, the overall verdict and exit code, over stored
 * real results (test/fixtures/results: the transactional copier of copy-kill as the baseline, the autocommit copier
 * that loses records in the kill window as the candidate).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture } from '../../reports/fixtures.ts';
import type { RunResult } from '../runner/result.ts';
import type { Baseline } from './baseline.ts';
import { loadBaseline } from './baseline.ts';
import { buildCertification, type Certification, certificationRun } from './certification.ts';
import { DEFAULT_TOLERANCES } from './compare.ts';
import { loadSuite } from './suite.ts';

const tmp = mkdtempSync(join(tmpdir(), 'streamproof-certify-unit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const scenario = (name: string) => ({
  name,
  sut: { command: 'reference', contract: 'attribution' },
  load: { rate: 100, duration: '5s' },
});

function dir(name: string, files: Record<string, unknown>): string {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  for (const [f, v] of Object.entries(files)) writeFileSync(join(d, f), typeof v === 'string' ? v : JSON.stringify(v));
  return d;
}

const run = (r: RunResult | undefined, name = r?.name ?? 'x') =>
  certificationRun({ name, file: `${name}.json` }, r, {
    resultPath: r ? `${name}/result.json` : null,
    seed: 1,
    durationSeconds: 1,
    error: r ? null : 'the runner threw',
  });

function certification(results: RunResult[], baseline?: Baseline): Certification {
  return buildCertification({
    suite: { dir: 'suite', file: null },
    runs: results.map((r) => run(r)),
    results,
    baseline,
    tolerances: DEFAULT_TOLERANCES,
    startedAt: 0,
    finishedAt: 1000,
  });
}

function baselineOf(results: RunResult[], notes: string[] = []): Baseline {
  return {
    dir: 'base',
    certification: certification(results),
    results: new Map(results.map((r) => [r.name, r])),
    notes,
  };
}

describe('loadSuite', () => {
  it('without certify.json: every scenario file by name; with it: its order and tolerances', async () => {
    const plain = dir('plain', { 'b.json': scenario('beta'), 'a.json': scenario('alpha'), 'notes.txt': 'x' });
    const s = await loadSuite(plain);
    expect(s.entries.map((e) => e.name)).toEqual(['alpha', 'beta']);
    expect(s).toMatchObject({ file: null, description: null, tolerances: {} });
    const ordered = dir('ordered', {
      'b.json': scenario('beta'),
      'a.json': scenario('alpha'),
      'certify.json': { description: 'd', scenarios: ['b.json', 'a.json'], tolerances: { latencyPct: 40 } },
    });
    const o = await loadSuite(ordered);
    expect(o.entries.map((e) => e.name)).toEqual(['beta', 'alpha']);
    expect(o).toMatchObject({ description: 'd', tolerances: { latencyPct: 40 } });
  });

  it('names the file and the field of every problem', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{}, 'the suite has no scenario files'],
      [{ 'a.json': scenario('same'), 'b.json': scenario('same') }, 'b.json: name: "same" is also the name of'],
      [{ 'a.json': scenario('..') }, 'a.json: name: ".." names an output directory'],
      [{ 'a.json': { ...scenario('a'), load: { rate: 'fast' } } }, 'a.json: scenario.load.rate'],
      [{ 'a.json': '{ not json' }, 'a.json'],
      [{ 'a.json': scenario('a'), 'certify.json': { tolerance: {} } }, 'certify.json: tolerance: unknown field'],
      [
        { 'a.json': scenario('a'), 'certify.json': { scenarios: 'a.json' } },
        'certify.json: scenarios: expected an array',
      ],
      [{ 'a.json': scenario('a'), 'certify.json': '[' }, 'certify.json: not JSON'],
    ];
    for (const [i, [files, message]] of cases.entries()) {
      const d = dir(`bad-${i}`, files);
      await expect(loadSuite(d), message).rejects.toThrow(message);
    }
    await expect(loadSuite(join(tmp, 'nowhere'))).rejects.toThrow('no such suite directory');
  });
});

describe('loadBaseline', () => {
  it('reads the results by their paths relative to the baseline; an unreadable one is a note, not a crash', () => {
    const good = fixture('sloBreach');
    const d = dir('baseline', {
      'certification.json': {
        ...certification([good]),
        runs: [run(good, 'copy-kill'), run(fixture('pass'), 'chaos-matrix'), run(undefined, 'crashed')],
      },
    });
    mkdirSync(join(d, 'copy-kill'));
    writeFileSync(join(d, 'copy-kill', 'result.json'), JSON.stringify(good));
    const b = loadBaseline(d);
    expect([...b.results.keys()]).toEqual(['copy-kill']);
    expect(b.notes).toHaveLength(2);
    expect(b.notes[0]).toMatch(/^baseline chaos-matrix: .*chaos-matrix\/result.json: cannot read the result file/);
    expect(b.notes[1]).toBe('baseline crashed: no result.json (the runner threw); not compared');
  });
});

describe('buildCertification', () => {
  it('without a baseline: nothing compared, the worst verdict of the runs', () => {
    const c = certification([fixture('pass'), fixture('sloBreach')]);
    expect(c).toMatchObject({ runsVerdict: 'slo-breach', verdict: 'slo-breach', exitCode: 2, regressed: null });
    expect(c.comparison).toBeNull();
    expect(certification([fixture('unknown'), fixture('sloBreach')]).exitCode).toBe(3);
    expect(certification([fixture('unknown'), fixture('fail')]).exitCode).toBe(1);
  });

  it('a regression makes it fail with exit 1, whatever the runs said', () => {
    const c = certification([fixture('fail')], baselineOf([fixture('sloBreach')]));
    expect(c).toMatchObject({ runsVerdict: 'fail', verdict: 'fail', exitCode: 1, regressed: true });
    const flagged = c.comparison!.regressions.map((r) => r.metric);
    expect(flagged).toContain('anomalies.lost');
    expect(flagged).toContain('checker.exactly-once');
    expect(flagged.every((m) => !m.startsWith('anomalies.') || m === 'anomalies.lost')).toBe(true);
    // the same run against itself: nothing regressed, the run's own verdict stands
    const same = certification([fixture('sloBreach')], baselineOf([fixture('sloBreach')]));
    expect(same).toMatchObject({ verdict: 'slo-breach', exitCode: 2, regressed: false });
    expect(same.comparison!.regressions).toEqual([]);
  });

  it('an unknown candidate is not judged: no regression, exit 3', () => {
    const c = certification([fixture('unknown')], baselineOf([fixture('sloBreach')]));
    expect(c).toMatchObject({ verdict: 'unknown', exitCode: 3, regressed: false });
    expect(c.comparison!.scenarios[0]!.notes).toContain(
      'the candidate run has verdict unknown: its numbers are not judged',
    );
  });

  it('a run without a result is unknown and noted; baseline notes are carried', () => {
    const c = buildCertification({
      suite: { dir: 'suite', file: null },
      runs: [run(undefined, 'crashed')],
      results: [],
      baseline: baselineOf([fixture('sloBreach')], ['baseline x: not compared']),
      tolerances: DEFAULT_TOLERANCES,
      startedAt: 0,
      finishedAt: 1,
    });
    expect(c).toMatchObject({ verdict: 'unknown', exitCode: 3, regressed: false });
    expect(c.runs[0]).toMatchObject({ verdict: 'unknown', exitCode: 3, result: null, error: 'the runner threw' });
    expect(c.notes).toEqual(['baseline x: not compared', 'crashed: no result (the runner threw); verdict unknown']);
    expect(c.comparison!.onlyInBaseline).toEqual(['copy-kill']);
  });
});
