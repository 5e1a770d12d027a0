/**
 * The certification of a suite's runs (`OUT/certification.json`, format `streamproof.certification/1`): the runs'
 * summaries, the worst verdict of the runs, the comparison with a baseline, and the exit code: the worst of the runs
 * (fail 1 > unknown 3 > slo-breach 2 > pass 0, as the checkers' compose orders them), and 1 when anything regressed
 * against the baseline. Paths inside it are relative to OUT, so a downloaded CI artifact works as a baseline wherever
 * it is unpacked. Pure: building one does no I/O (certify.ts runs the suite, baseline.ts reads an earlier one).
 */
import { exitCodeOf } from '../checkers/compose.ts';
import type { RunResult } from '../runner/result.ts';
import type { Baseline } from './baseline.ts';
import { type Comparison, compareSuites, type Tolerances } from './compare.ts';
import type { Suite, SuiteEntry } from './suite.ts';

export const CERTIFICATION_FORMAT = 'streamproof.certification/1';

type Verdict = RunResult['verdict'];
type ExitCode = RunResult['exitCode'];

export interface CertificationRun {
  readonly scenario: string;
  readonly file: string;
  readonly verdict: Verdict;
  readonly exitCode: ExitCode;
  readonly seed: number;
  readonly replay: string | null;
  readonly durationSeconds: number;
  /** result.json, relative to the certification's directory; null when the run crashed before writing it. */
  readonly result: string | null;
  readonly counts: Partial<RunResult['counts']>;
  readonly e2eP95Ms: number | null;
  readonly e2eP99Ms: number | null;
  readonly ackedPerSec: number | null;
  readonly observedPerSec: number | null;
  readonly error: string | null;
}

export interface Certification {
  readonly format: typeof CERTIFICATION_FORMAT;
  readonly suite: { readonly dir: string; readonly file: string | null; readonly scenarios: readonly string[] };
  readonly startedAt: string;
  readonly durationSeconds: number;
  /** The --seed override, or null when every scenario ran at its own seed. */
  readonly seedOverride: number | null;
  readonly tolerances: Tolerances;
  readonly runs: readonly CertificationRun[];
  /** The worst verdict of the runs alone. */
  readonly runsVerdict: Verdict;
  /** Anything regressed against the baseline; null without a baseline. */
  readonly regressed: boolean | null;
  /** The overall verdict: `fail` when anything regressed, else the runs' verdict. */
  readonly verdict: Verdict;
  readonly exitCode: ExitCode;
  readonly baseline: {
    readonly dir: string;
    readonly startedAt: string | null;
    readonly scenarios: readonly string[];
  } | null;
  readonly comparison: Comparison | null;
  readonly notes: readonly string[];
  readonly environment: Record<string, string>;
  /** The reports, relative to the certification's directory. */
  readonly files: { json: string; markdown: string; html: string; junit: string };
}

/** Worst first, in the order the checkers' compose uses: a violated invariant outranks an undecided run. */
const SEVERITY: readonly Verdict[] = ['fail', 'unknown', 'slo-breach', 'pass'];

/** The worst verdict (`unknown` when there is none: nothing was shown to pass); as the reporters' worstVerdict. */
function worst(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.length === 0) return 'unknown';
  return SEVERITY[Math.min(...verdicts.map((v) => (SEVERITY.indexOf(v) < 0 ? 1 : SEVERITY.indexOf(v))))]!;
}

/** One run's line in the certification; a run without a result (it crashed before writing one) is unknown. */
export function certificationRun(
  entry: Pick<SuiteEntry, 'name' | 'file'>,
  result: RunResult | undefined,
  x: { error?: string | null; resultPath: string | null; seed: number; durationSeconds: number },
): CertificationRun {
  const tp = (result?.throughput ?? null) as { ackedPerSec?: number | null; observedPerSec?: number | null } | null;
  return {
    scenario: entry.name,
    file: entry.file,
    verdict: result?.verdict ?? 'unknown',
    exitCode: result?.exitCode ?? 3,
    seed: result?.seed ?? x.seed,
    replay: result?.replay ?? null,
    durationSeconds: result?.durationSeconds ?? x.durationSeconds,
    result: result ? x.resultPath : null,
    counts: result?.counts ?? {},
    e2eP95Ms: result?.latency.e2e?.p95Ms ?? null,
    e2eP99Ms: result?.latency.e2e?.p99Ms ?? null,
    ackedPerSec: tp?.ackedPerSec ?? null,
    observedPerSec: tp?.observedPerSec ?? null,
    error: x.error ?? (result?.error ? `[${result.error.code}] ${result.error.message}` : null),
  };
}

/**
 * The certification of finished runs (pure): the comparison with the baseline when there is one, the runs' worst
 * verdict, and the overall verdict and exit code (`fail`, 1, when anything regressed).
 */
export function buildCertification(x: {
  suite: Pick<Suite, 'dir' | 'file'>;
  runs: readonly CertificationRun[];
  results: readonly RunResult[];
  baseline?: Baseline;
  tolerances: Tolerances;
  seed?: number;
  startedAt: number;
  finishedAt: number;
  notes?: readonly string[];
}): Certification {
  const notes = [...(x.notes ?? []), ...(x.baseline?.notes ?? [])];
  const comparison = x.baseline
    ? compareSuites(x.baseline.results, new Map(x.results.map((r) => [r.name, r])), x.tolerances)
    : null;
  for (const r of x.runs) {
    if (r.result === null) notes.push(`${r.scenario}: no result (${r.error ?? 'unknown error'}); verdict unknown`);
  }
  const runsVerdict = worst(x.runs.map((r) => r.verdict));
  const regressed = comparison ? comparison.regressions.length > 0 : null;
  const verdict = regressed ? worst([runsVerdict, 'fail']) : runsVerdict;
  return {
    format: CERTIFICATION_FORMAT,
    suite: { dir: x.suite.dir, file: x.suite.file, scenarios: x.runs.map((r) => r.scenario) },
    startedAt: new Date(x.startedAt).toISOString(),
    durationSeconds: (x.finishedAt - x.startedAt) / 1000,
    seedOverride: x.seed ?? null,
    tolerances: { ...x.tolerances },
    runs: x.runs,
    runsVerdict,
    regressed,
    verdict,
    exitCode: exitCodeOf(verdict),
    baseline: x.baseline
      ? {
          dir: x.baseline.dir,
          startedAt: x.baseline.certification.startedAt ?? null,
          scenarios: x.baseline.certification.runs.map((r) => r.scenario),
        }
      : null,
    comparison,
    notes,
    environment: x.results[0]?.environment ?? {},
    files: { json: 'certification.json', markdown: 'certification.md', html: 'certification.html', junit: 'junit.xml' },
  };
}
