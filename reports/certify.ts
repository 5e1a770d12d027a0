/**
 * Certification: run a suite of scenarios, judge them together, and, given a baseline (the output directory of an
 * earlier certification), compare each scenario with it (see compare.ts for what a regression is).
 *
 * Model. A suite is a directory of scenario files plus an optional `certify.json`:
 *   { "description": "...", "scenarios": ["steady.json", "attributor-kill.json"], "tolerances": { "latencyPct": 20 } }
 * (`scenarios` fixes the order; without it every .json/.ts scenario file of the directory runs, by file name).
 * Each scenario runs with the runner (`runScenario`), at its own fixed seed (`events.seed`) unless a seed override is
 * given, so a baseline and a candidate offer the same events. Its outputs go to `OUT/<scenario name>/`. Scenarios
 * that need no broker fault share one stack per broker count (a stack start is most of a short run's time); one that
 * kills or restarts a broker gets a stack of its own.
 *
 * The certification (`OUT/certification.json`, format `streamproof.certification/1`) holds the runs' summaries, the
 * worst verdict of the runs, the comparison, and the exit code: the worst of the runs (fail 1 > unknown 3 >
 * slo-breach 2 > pass 0, as the checkers' compose orders them), and 1 when anything regressed against the baseline.
 * Paths inside it are relative to OUT, so a downloaded CI artifact works as a baseline wherever it is unpacked.
 * The Markdown, HTML and JUnit reports are the reporters' (index.ts) over all runs, with the comparison as a section
 * and its judged rows as JUnit test cases.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { exitCodeOf } from '../harness/checkers/compose.ts';
import type { RunResult } from '../harness/runner/result.ts';
import type { Scenario } from '../harness/runner/scenario.ts';
import type { StartedStack } from '../harness/stack/stack.ts';
import { StreamproofError } from '../harness/util/errors.ts';
import { type Progress, silent } from '../harness/util/progress.ts';
import {
  type Comparison,
  compareSuites,
  comparisonHtml,
  comparisonMarkdown,
  regressionLines,
  resolveTolerances,
  type Tolerances,
} from './compare.ts';
import {
  type ExtraTestcase,
  htmlEscape,
  htmlReport,
  junitReport,
  loadResult,
  markdownReport,
  mdText,
  type ReportInput,
  worstVerdict,
} from './index.ts';

export const CERTIFICATION_FORMAT = 'streamproof.certification/1';
export const SUITE_FILE = 'certify.json';

type Verdict = RunResult['verdict'];
type ExitCode = 0 | 1 | 2 | 3;

export interface SuiteEntry {
  /** The scenario's name: its output directory under OUT and its key in the comparison. */
  readonly name: string;
  readonly file: string;
  readonly scenario: Scenario;
}

export interface Suite {
  readonly dir: string;
  /** The suite file when there is one. */
  readonly file: string | null;
  readonly description: string | null;
  /** Tolerances the suite file sets (validated; unset keys fall back to the defaults or to flags). */
  readonly tolerances: Partial<Tolerances>;
  readonly entries: readonly SuiteEntry[];
}

/** Reads and validates a suite directory. Errors name the file and the field (exit 64). */
export async function loadSuite(dir: string): Promise<Suite> {
  const { loadScenario } = await import('../harness/runner/scenario.ts');
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    throw new StreamproofError('USAGE', `${dir}: no such suite directory`);
  }
  const suiteFile = join(abs, SUITE_FILE);
  let spec: Record<string, unknown> = {};
  const where = join(dir, SUITE_FILE);
  if (existsSync(suiteFile)) {
    try {
      spec = JSON.parse(readFileSync(suiteFile, 'utf8'));
    } catch (err) {
      throw new StreamproofError('INVALID_SCENARIO', `${where}: not JSON (${(err as Error).message})`);
    }
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
      throw new StreamproofError('INVALID_SCENARIO', `${where}: expected an object`);
    }
    for (const k of Object.keys(spec)) {
      if (!['description', 'scenarios', 'tolerances'].includes(k)) {
        throw new StreamproofError(
          'INVALID_SCENARIO',
          `${where}: ${k}: unknown field (expected description, scenarios, tolerances)`,
        );
      }
    }
    if (spec.description !== undefined && typeof spec.description !== 'string') {
      throw new StreamproofError('INVALID_SCENARIO', `${where}: description: expected a string`);
    }
  }
  const tolerances: Partial<Tolerances> = {};
  if (spec.tolerances !== undefined) {
    const all = resolveTolerances(spec.tolerances, `${where}: tolerances`);
    for (const k of Object.keys(spec.tolerances as object) as (keyof Tolerances)[]) {
      (tolerances as Record<string, number>)[k] = all[k];
    }
  }
  let files: string[];
  if (spec.scenarios !== undefined) {
    if (!Array.isArray(spec.scenarios) || spec.scenarios.some((s) => typeof s !== 'string')) {
      throw new StreamproofError('INVALID_SCENARIO', `${where}: scenarios: expected an array of file names`);
    }
    files = spec.scenarios as string[];
    files.forEach((f, i) => {
      if (!existsSync(join(abs, f))) {
        throw new StreamproofError('INVALID_SCENARIO', `${where}: scenarios[${i}]: no such file ${join(dir, f)}`);
      }
    });
  } else {
    files = readdirSync(abs)
      .filter((f) => f !== SUITE_FILE && /\.(json|ts)$/.test(f) && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
      .sort();
  }
  if (files.length === 0) {
    throw new StreamproofError('INVALID_SCENARIO', `${dir}: the suite has no scenario files (.json or .ts)`);
  }
  const entries: SuiteEntry[] = [];
  for (const f of files) {
    const file = join(dir, f);
    let scenario: Scenario;
    try {
      scenario = (await loadScenario(file)).scenario;
    } catch (err) {
      if (err instanceof StreamproofError && !err.message.startsWith(file)) {
        throw new StreamproofError(err.code, `${file}: ${err.message}`, err.details);
      }
      throw err;
    }
    if (!/^[\w.-]+$/.test(scenario.name) || scenario.name.startsWith('.')) {
      throw new StreamproofError(
        'INVALID_SCENARIO',
        `${file}: name: "${scenario.name}" names an output directory: use letters, digits, '.', '_' or '-'`,
      );
    }
    const twin = entries.find((e) => e.name === scenario.name);
    if (twin) {
      throw new StreamproofError(
        'INVALID_SCENARIO',
        `${file}: name: "${scenario.name}" is also the name of ${twin.file}; names key the comparison, make them unique`,
      );
    }
    entries.push({ name: scenario.name, file, scenario });
  }
  return {
    dir,
    file: existsSync(suiteFile) ? where : null,
    description: (spec.description as string | undefined) ?? null,
    tolerances,
    entries,
  };
}

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

const worst = (verdicts: readonly Verdict[]): Verdict => worstVerdict(verdicts.map((verdict) => ({ verdict })));

export interface Baseline {
  readonly dir: string;
  readonly certification: Certification;
  /** The baseline's results by scenario name (those that could be read). */
  readonly results: ReadonlyMap<string, RunResult>;
  readonly notes: readonly string[];
}

/**
 * Reads a baseline: an earlier certification's output directory. No certification.json, or one of another format,
 * is a usage error naming the directory; an unreadable per-scenario result is a note (that scenario then counts as
 * missing from the baseline).
 */
export function loadBaseline(dir: string): Baseline {
  const file = join(dir, 'certification.json');
  let cert: Certification;
  try {
    cert = JSON.parse(readFileSync(file, 'utf8')) as Certification;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new StreamproofError(
      'USAGE',
      code === 'ENOENT'
        ? `${dir}: no certification.json; a baseline is the --out directory of an earlier \`streamproof certify\``
        : `${file}: cannot read the baseline (${(err as Error).message})`,
    );
  }
  if (cert?.format !== CERTIFICATION_FORMAT || !Array.isArray(cert.runs)) {
    throw new StreamproofError(
      'USAGE',
      `${file}: format: expected "${CERTIFICATION_FORMAT}" with runs, got ${JSON.stringify(cert?.format ?? null)}`,
    );
  }
  const results = new Map<string, RunResult>();
  const notes: string[] = [];
  for (const run of cert.runs) {
    if (!run.result) {
      notes.push(`baseline ${run.scenario}: no result.json (${run.error ?? 'the run crashed'}); not compared`);
      continue;
    }
    try {
      results.set(run.scenario, loadResult(join(dir, run.result)));
    } catch (err) {
      notes.push(`baseline ${run.scenario}: ${(err as Error).message}; not compared`);
    }
  }
  return { dir, certification: cert, results, notes };
}

export interface CertifyOptions {
  readonly suite: Suite;
  readonly outDir: string;
  readonly baseline?: Baseline;
  readonly tolerances: Tolerances;
  /** Overrides every scenario's seed. */
  readonly seed?: number;
  /** Run every scenario on this stack (`--stack running`); else the suite starts its own. */
  readonly stack?: StartedStack;
  readonly progress?: Progress;
  /** The command that replays one scenario (without --seed); default `streamproof run <file>`. */
  readonly replayBase?: (entry: SuiteEntry) => string;
}

export interface CertifyOutcome {
  readonly certification: Certification;
  readonly results: readonly RunResult[];
}

const brokerFault = (sc: Scenario) =>
  sc.faults.some((f) => ['kill', 'restart'].includes(f.kind) && String(f.target).startsWith('broker:'));

export async function certify(opts: CertifyOptions): Promise<CertifyOutcome> {
  const { runScenario } = await import('../harness/runner/run.ts');
  const { startStack } = await import('../harness/stack/stack.ts');
  const progress = opts.progress ?? silent;
  const outDir = resolve(opts.outDir);
  mkdirSync(outDir, { recursive: true });
  const started = Date.now();
  const entries = opts.suite.entries;
  const runs: CertificationRun[] = [];
  const results: RunResult[] = [];
  const notes: string[] = [];
  const shared = new Map<string, StartedStack>();
  try {
    for (const [i, entry] of entries.entries()) {
      const sc = entry.scenario;
      const tag = `[${i + 1}/${entries.length}] ${entry.name}`;
      progress({ phase: 'certify', message: `${tag}: running ${entry.file}`, fraction: i / entries.length });
      let stack = opts.stack;
      if (!stack && !brokerFault(sc)) {
        const key = `${sc.stack.brokers}-${sc.stack.registry ? 'registry' : 'no-registry'}`;
        stack = shared.get(key);
        if (!stack) {
          try {
            progress({ phase: 'certify', message: `starting a shared ${sc.stack.brokers}-broker stack` });
            stack = await startStack({
              brokers: sc.stack.brokers,
              registry: sc.stack.registry,
              dir: join(outDir, `stack-${key}`),
              progress,
            });
            shared.set(key, stack);
          } catch (err) {
            // The run then starts a stack of its own, and reports the failure in its result if that fails too.
            notes.push(`the shared stack did not start (${(err as Error).message}); ${entry.name} used its own`);
            stack = undefined;
          }
        }
      }
      const runStarted = Date.now();
      let result: RunResult | undefined;
      let error: string | null = null;
      try {
        result = await runScenario({
          scenario: sc,
          scenarioFile: entry.file,
          seed: opts.seed,
          outDir: join(outDir, entry.name),
          progress,
          stack,
          replayBase: opts.replayBase?.(entry),
        });
      } catch (err) {
        // runScenario turns harness failures into an `unknown` result; reaching here means it could not even write
        // one. The run is unknown, never a pass.
        error = (err as Error)?.message ?? String(err);
      }
      if (result) results.push(result);
      const resultFile = join(outDir, entry.name, 'result.json');
      runs.push(
        certificationRun(entry, result, {
          error,
          resultPath: result && existsSync(resultFile) ? relative(outDir, resultFile) : null,
          seed: opts.seed ?? sc.events.seed,
          durationSeconds: (Date.now() - runStarted) / 1000,
        }),
      );
      const last = runs[runs.length - 1]!;
      progress({
        phase: 'certify',
        message: `${tag}: ${last.verdict.toUpperCase()} (exit ${last.exitCode}) in ${last.durationSeconds.toFixed(0)} s`,
        fraction: (i + 1) / entries.length,
      });
    }
  } finally {
    for (const s of shared.values()) await s.stop().catch(() => undefined);
  }

  const certification = buildCertification({
    suite: opts.suite,
    runs,
    results,
    baseline: opts.baseline,
    tolerances: opts.tolerances,
    seed: opts.seed,
    startedAt: started,
    finishedAt: Date.now(),
    notes,
  });
  writeCertification(outDir, certification, results);
  return { certification, results };
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
  const input = certificationReportInput(c, results, outDir);
  writeFileSync(join(outDir, c.files.json), `${JSON.stringify(c, null, 2)}\n`);
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
