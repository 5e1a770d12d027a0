/**
 * What every reporter formats: one or more stored run results (reporters add no facts), an overall verdict, and
 * optional extra sections and JUnit test cases a caller such as `certify` appends (e.g. a baseline comparison).
 */
import { dirname, isAbsolute, relative } from 'node:path';
import type { RunResult } from '../harness/runner/result.ts';

export { loadResult } from '../harness/runner/result-file.ts';

export type Verdict = RunResult['verdict'];

export interface ReportSection {
  title: string;
  /** Body for the Markdown report (GitHub-flavoured). */
  markdown?: string;
  /** Body for the HTML report: trusted HTML, inserted as is (the caller escapes its own data). */
  html?: string;
}

export interface ExtraTestcase {
  suite: string;
  name: string;
  /** Failure message; absent = the test case passed. */
  failure?: string;
  /** Seconds. */
  time?: number;
}

export interface ReportInput {
  title: string;
  runs: RunResult[];
  /** Overall verdict; default: the worst verdict of the runs (see `worstVerdict`). */
  verdict?: Verdict;
  /** Extra sections (e.g. certify's baseline comparison), appended in Markdown and HTML. */
  sections?: ReportSection[];
  /** Extra JUnit test cases (e.g. regressions), appended to the JUnit report. */
  extraTestcases?: ExtraTestcase[];
  /**
   * Directory the report will be written to: file links (anomaly lists, history) are made relative to it so the
   * report and its run directory can move together. Default: links are the paths stored in the result.
   */
  baseDir?: string;
}

/** Worst first, in the order the checkers' compose uses: a violated invariant outranks an undecided run. */
const SEVERITY: readonly Verdict[] = ['fail', 'unknown', 'slo-breach', 'pass'];

/** The worst verdict of the runs (`unknown` when there are none: nothing was shown to pass). */
export function worstVerdict(runs: readonly Pick<RunResult, 'verdict'>[]): Verdict {
  if (runs.length === 0) return 'unknown';
  let worst = SEVERITY.length - 1;
  for (const r of runs) {
    const i = SEVERITY.indexOf(r.verdict);
    worst = Math.min(worst, i < 0 ? 1 : i);
  }
  return SEVERITY[worst]!;
}

export function verdictOfInput(input: ReportInput): Verdict {
  return input.verdict ?? worstVerdict(input.runs);
}

/** The input for one run's report. */
export function reportInputFor(run: RunResult, extra: Partial<Omit<ReportInput, 'runs'>> = {}): ReportInput {
  return { title: run.name, ...extra, runs: [run] };
}

/** A path stored in a result, relative to the report's directory when known (so both can move together). */
export function fileLink(path: string, baseDir: string | undefined): string {
  if (!baseDir || !isAbsolute(path)) return path;
  const rel = relative(baseDir, path);
  return rel === '' ? '.' : rel;
}

/** The directory a report file lives in (for `baseDir`). */
export function reportDir(file: string): string {
  return dirname(file);
}
