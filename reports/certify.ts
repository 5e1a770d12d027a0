/**
 * A certification (harness/certify) as reports: the reporters' input over all its runs, with the baseline comparison
 * as a section and its judged rows as JUnit test cases; certification.json, .md, .html and junit.xml written from it;
 * and a few lines for a terminal. Formatting only: the suite is run and judged in harness/certify.
 */
import { writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Certification } from '../harness/certify/certification.ts';
import type { RunResult } from '../harness/runner/result.ts';
import { comparisonHtml, comparisonMarkdown, regressionLines } from './compare.ts';
import { htmlReport } from './html.ts';
import type { ExtraTestcase, ReportInput } from './input.ts';
import { junitReport } from './junit.ts';
import { markdownReport, mdText } from './markdown.ts';
import { writeRunReports } from './run-reports.ts';
import { htmlEscape } from './xml.ts';

/** The reporters' input for a certification: all runs, the comparison as a section, its judged rows as test cases. */
export function certificationReportInput(
  c: Certification,
  results: readonly RunResult[],
  baseDir?: string,
): ReportInput {
  const name = basename(resolve(c.suite.dir));
  const summary = [
    `Suite ${c.suite.dir}: ${c.runs.length} scenario(s), overall ${c.verdict.toUpperCase()} (exit ${c.exitCode}).`,
    c.regressed === null
      ? 'No baseline given: nothing was compared (pass --baseline DIR, the output directory of an earlier certify).'
      : c.regressed
        ? `Regressed against the baseline ${c.baseline?.dir}.`
        : `No regression against the baseline ${c.baseline?.dir}.`,
    ...c.notes.map((n) => `Note: ${n}`),
  ];
  const sections: NonNullable<ReportInput['sections']> = [
    {
      title: 'Certification',
      markdown: summary.map((l) => mdText(l)).join('\n\n'),
      html: summary.map((l) => `<p>${htmlEscape(l)}</p>`).join('\n'),
    },
  ];
  if (c.comparison) {
    sections.push({
      title: 'Baseline comparison',
      markdown: comparisonMarkdown(c.comparison),
      html: comparisonHtml(c.comparison),
    });
  }
  const extraTestcases: ExtraTestcase[] = [];
  for (const s of c.comparison?.scenarios ?? []) {
    for (const r of s.rows) {
      if (r.verdict === 'info' || r.verdict === 'unknown') continue;
      extraTestcases.push({
        suite: 'certify.baseline',
        name: `${s.scenario}: ${r.metric}`,
        ...(r.verdict === 'regression'
          ? { failure: `regression: ${r.metric} baseline ${r.baseline}, candidate ${r.candidate} (${r.rule})` }
          : {}),
      });
    }
  }
  for (const r of c.runs) {
    if (r.result === null) {
      extraTestcases.push({
        suite: 'certify',
        name: `${r.scenario}: run`,
        failure: `no result: ${r.error ?? 'unknown error'}`,
        time: r.durationSeconds,
      });
    }
  }
  return {
    title: `certification (suite ${name})`,
    runs: [...results],
    verdict: c.verdict,
    sections,
    extraTestcases,
    ...(baseDir ? { baseDir } : {}),
  };
}

/** Writes certification.json and the Markdown, HTML and JUnit reports into `outDir`. */
export function writeCertification(outDir: string, c: Certification, results: readonly RunResult[]): void {
  writeFileSync(join(outDir, c.files.json), `${JSON.stringify(c, null, 2)}\n`);
  writeCertificationReports(outDir, c, results);
}

/** Writes the Markdown, HTML and JUnit reports of a certification into `outDir`, beside its certification.json. */
export function writeCertificationReports(outDir: string, c: Certification, results: readonly RunResult[]): void {
  const input = certificationReportInput(c, results, outDir);
  writeFileSync(join(outDir, c.files.markdown), markdownReport(input));
  writeFileSync(join(outDir, c.files.html), htmlReport(input));
  writeFileSync(join(outDir, c.files.junit), junitReport(input));
}

/** A few lines for a terminal. */
export function certificationText(c: Certification, outDir: string): string {
  const lines = [`certification ${c.suite.dir}: ${c.verdict.toUpperCase()} (exit ${c.exitCode})`];
  for (const r of c.runs) {
    lines.push(
      `  ${r.scenario}: ${r.verdict.toUpperCase()} (exit ${r.exitCode}) seed ${r.seed}, ${r.durationSeconds.toFixed(0)} s${r.error ? `; ${r.error}` : ''}`,
    );
    if (r.exitCode !== 0 && r.replay) lines.push(`    replay: ${r.replay}`);
  }
  if (c.comparison) {
    const regs = regressionLines(c.comparison);
    lines.push(
      regs.length === 0
        ? `  no regression against ${c.baseline?.dir}`
        : `  ${regs.length} regression(s) against ${c.baseline?.dir}:`,
    );
    for (const l of regs) lines.push(`    ${l}`);
    if (c.comparison.onlyInBaseline.length)
      lines.push(`  only in the baseline: ${c.comparison.onlyInBaseline.join(', ')}`);
    if (c.comparison.onlyInCandidate.length)
      lines.push(`  only in the candidate: ${c.comparison.onlyInCandidate.join(', ')}`);
  }
  for (const n of c.notes) lines.push(`  note: ${n}`);
  lines.push(
    `  reports: ${join(outDir, c.files.markdown)}, ${join(outDir, c.files.html)}, ${join(outDir, c.files.junit)}`,
  );
  return lines.join('\n');
}

/** What `certify` writes reports with (harness/certify's `CertifyOptions.reports`): each run's, and the certification's. */
export const certificationReports = { run: writeRunReports, certification: writeCertificationReports };
