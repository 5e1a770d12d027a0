/**
 * A certification as reports, over stored real results (test/fixtures/results: the transactional copier of copy-kill
 * as the baseline, the autocommit copier that loses records in the kill window as the candidate).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Baseline } from '../harness/certify/baseline.ts';
import { buildCertification, type Certification, certificationRun } from '../harness/certify/certification.ts';
import { DEFAULT_TOLERANCES } from '../harness/certify/compare.ts';
import type { RunResult } from '../harness/runner/result.ts';
import { certificationReportInput, writeCertification } from './certify.ts';
import { fixture } from './fixtures.ts';

const tmp = mkdtempSync(join(tmpdir(), 'streamproof-certify-unit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

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

describe('reports', () => {
  const c = certification([fixture('fail')], baselineOf([fixture('sloBreach')]));

  it('JUnit test cases: one per judged comparison row, failed exactly for the regressions', () => {
    const input = certificationReportInput(c, [fixture('fail')]);
    const rows = c.comparison!.scenarios[0]!.rows.filter((r) => r.verdict !== 'info' && r.verdict !== 'unknown');
    expect(input.extraTestcases).toHaveLength(rows.length);
    const failed = input.extraTestcases!.filter((t) => t.failure).map((t) => t.name);
    expect(failed).toEqual(c.comparison!.regressions.map((r) => `copy-kill: ${r.metric}`));
    expect(input.sections!.map((s) => s.title)).toEqual(['Certification', 'Baseline comparison']);
    expect(input.verdict).toBe('fail');
  });

  it('writes certification.json, Markdown with the comparison, HTML, and well-formed JUnit', () => {
    const out = join(tmp, 'out');
    mkdirSync(out);
    writeCertification(out, c, [fixture('fail')]);
    expect(JSON.parse(readFileSync(join(out, 'certification.json'), 'utf8'))).toEqual(c);
    const md = readFileSync(join(out, 'certification.md'), 'utf8');
    expect(md).toContain('## Baseline comparison');
    expect(md).toMatch(/\| anomalies\.lost \| 0 \| 171 \| \+171 \| \*\*REGRESSION\*\* \(any rise\) \|/);
    const html = readFileSync(join(out, 'certification.html'), 'utf8');
    expect(html).toContain('<tr data-metric="anomalies.lost" data-verdict="regression" class="regression">');
    execFileSync('xmllint', ['--noout', join(out, 'junit.xml')]);
    expect(readFileSync(join(out, 'junit.xml'), 'utf8')).toMatch(
      /<testsuite name="certify.baseline" tests="\d+" failures="\d+"/,
    );
  });
});
