/**
 * The library's verbs, as the CLI runs them: `run` one scenario, `certify` a suite, `report` a stored result. Each
 * takes what a program has at hand (a path, an object, a stack it already started) and fills in the CLI's defaults.
 * The package's entry point (index.ts) exports these with the checkers, reporters and types.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ReportFormat } from '../reports/render.ts';
import type { Baseline, CertifyOutcome, Tolerances } from './certify/index.ts';
import { shellQuote, timestamp } from './cli/flags.ts';
import type { RunResult } from './runner/result.ts';
import type { RunHooks } from './runner/run.ts';
import type { Scenario, ScenarioInput } from './runner/scenario.ts';
import type { StartedStack } from './stack/stack.ts';
import { StreamproofError } from './util/errors.ts';
import { type Progress, silent, textProgress } from './util/progress.ts';

/** A scenario file (.json, .ts, .js), a scenario object as written (`defineScenario`), or one already validated. */
export type ScenarioLike = string | ScenarioInput | Scenario;

/**
 * Where progress goes: a function, `true` for human lines on stderr (the CLI's), `false`/absent for nothing.
 */
export type ProgressOption = Progress | boolean;

export interface RunApiOptions {
  /**
   * A stack to run on (`startStack()`; runs sharing a stack get run-scoped topic names), or "running" for the one
   * `streamproof stack up` started. Default: the run starts its own stack and stops it at the end.
   */
  stack?: StartedStack | 'running';
  /** Where result.json, the reports, the history and the logs go. Default `out/<scenario>-<timestamp>`. */
  outDir?: string;
  /** Overrides the scenario's `events.seed` (the replay command carries it). */
  seed?: number;
  /** The system under test's command, overriding `sut.command` (as `streamproof run --sut`). */
  sut?: string;
  hooks?: RunHooks;
  progress?: ProgressOption;
  /** Load worker processes, overriding `load.workers`. */
  workers?: number;
}

function progressOf(p: ProgressOption | undefined): Progress {
  if (typeof p === 'function') return p;
  return p ? textProgress() : silent;
}

/** A validated scenario has its durations resolved to milliseconds; what a user writes does not. */
function isValidated(s: ScenarioInput | Scenario): s is Scenario {
  const x = s as Partial<Scenario>;
  return (
    typeof x.load?.durationMs === 'number' && Array.isArray(x.load?.stages) && typeof x.drain?.quietMs === 'number'
  );
}

/** The scenario to run, and the file it came from (for the replay command). */
export async function resolveScenario(
  scenario: ScenarioLike,
  sut?: string,
): Promise<{ scenario: Scenario; file: string | undefined }> {
  const { loadScenario, validateScenario } = await import('./runner/scenario.ts');
  if (typeof scenario === 'string') {
    const loaded = await loadScenario(scenario);
    if (sut === undefined) return { scenario: loaded.scenario, file: scenario };
    const raw = structuredClone(loaded.raw) as { sut?: Record<string, unknown> };
    return { scenario: validateScenario({ ...raw, sut: { ...raw.sut, command: sut } }), file: scenario };
  }
  if (isValidated(scenario)) {
    return {
      scenario: sut === undefined ? scenario : { ...scenario, sut: { ...scenario.sut, command: sut } },
      file: undefined,
    };
  }
  const input = sut === undefined ? scenario : { ...scenario, sut: { ...scenario.sut, command: sut } };
  return { scenario: validateScenario(input), file: undefined };
}

/**
 * One certification run: load, faults, drain, checkers, reports. Resolves with the result (also written to
 * `<outDir>/result.json`); it never throws for a verdict: a violated invariant is `verdict: "fail"`, a harness
 * failure `verdict: "unknown"` with `error`. A bad scenario throws a StreamproofError naming the field.
 */
export async function run(scenario: ScenarioLike, options: RunApiOptions = {}): Promise<RunResult> {
  const { scenario: sc, file } = await resolveScenario(scenario, options.sut);
  const { runScenario } = await import('./runner/run.ts');
  const { writeRunReports } = await import('../reports/run-reports.ts');
  // A cluster of the scenario's own: a password variable not set is bad input, thrown before anything starts.
  if (sc.stack.external) (await import('./runner/external-stack.ts')).checkSecrets(sc.stack.external);
  let stack: StartedStack | undefined;
  if (options.stack === 'running') {
    const { attachStack } = await import('./stack/attach.ts');
    stack = attachStack();
  } else {
    stack = options.stack;
  }
  const replayBase = [
    'streamproof run',
    file === undefined ? `<scenario ${sc.name}>` : shellQuote(file),
    ...(options.sut !== undefined ? ['--sut', shellQuote(options.sut)] : []),
    ...(options.stack === 'running' ? ['--stack', 'running'] : []),
    ...(options.workers !== undefined ? ['--workers', String(options.workers)] : []),
  ].join(' ');
  return runScenario({
    scenario: sc,
    ...(file !== undefined ? { scenarioFile: file } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    outDir: options.outDir ?? join('out', `${sc.name}-${timestamp()}`),
    writeReports: writeRunReports,
    progress: progressOf(options.progress),
    ...(stack ? { stack } : {}),
    replayBase,
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    ...(options.hooks ? { hooks: options.hooks } : {}),
  });
}

export interface CertifyApiOptions {
  /**
   * The suite: a directory of scenarios (and an optional certify.json with tolerances). Default `scenarios/certify`
   * in the working directory if there is one, else the suite shipped with streamproof.
   */
  suite?: string;
  /** An earlier certification's out directory to compare with (regressions make exitCode 1). */
  baseline?: string;
  /** Default `out/certify-<timestamp>`. */
  outDir?: string;
  /** Overrides the defaults and the suite's certify.json. */
  tolerances?: Partial<Tolerances>;
  /** Overrides every scenario's seed. */
  seed?: number;
  /** Run every scenario on this stack (or "running": `streamproof stack up`'s); default the suite starts its own. */
  stack?: StartedStack | 'running';
  progress?: ProgressOption;
}

/** `streamproof certify` as a function: every scenario of a suite, one certification, regressions vs a baseline. */
export async function certify(options: CertifyApiOptions = {}): Promise<CertifyOutcome> {
  const { existsSync } = await import('node:fs');
  const {
    loadSuite,
    loadBaseline,
    certify: certifySuite,
    DEFAULT_TOLERANCES,
    resolveTolerances,
  } = await import('./certify/index.ts');
  const suiteDir =
    options.suite ??
    (existsSync('scenarios/certify') ? 'scenarios/certify' : join(import.meta.dirname, '..', 'scenarios', 'certify'));
  const suite = await loadSuite(suiteDir);
  const tolerances = resolveTolerances(options.tolerances ?? {}, 'tolerances', {
    ...DEFAULT_TOLERANCES,
    ...suite.tolerances,
  });
  const outDir = options.outDir ?? join('out', `certify-${timestamp()}`);
  let baseline: Baseline | undefined;
  if (options.baseline !== undefined) {
    if (resolve(options.baseline) === resolve(outDir)) {
      throw new StreamproofError('USAGE', `outDir: ${outDir} is the baseline directory; write the candidate elsewhere`);
    }
    baseline = loadBaseline(options.baseline);
  }
  let stack: StartedStack | undefined;
  if (options.stack === 'running') {
    const { attachStack } = await import('./stack/attach.ts');
    stack = attachStack();
  } else {
    stack = options.stack;
  }
  const { certificationReports } = await import('../reports/certify.ts');
  return certifySuite({
    suite,
    outDir,
    reports: certificationReports,
    tolerances,
    progress: progressOf(options.progress),
    ...(baseline ? { baseline } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(stack ? { stack } : {}),
  });
}

export interface ReportApiOptions {
  /** Default "md". */
  format?: ReportFormat;
  /** Also write the report to this file; file links inside it are then relative to its directory. */
  out?: string;
  /** The report's title; default the run's name. */
  title?: string;
}

/** `streamproof report` as a function: a run's result (or its result.json path) rendered in one format. */
export async function report(result: RunResult | string, options: ReportApiOptions = {}): Promise<string> {
  const { loadResult, reportInputFor, renderReport } = await import('../reports/index.ts');
  const run = typeof result === 'string' ? loadResult(result) : result;
  const baseDir = options.out === undefined ? undefined : dirname(resolve(options.out));
  const text = renderReport(
    options.format ?? 'md',
    reportInputFor(run, { ...(baseDir ? { baseDir } : {}), ...(options.title ? { title: options.title } : {}) }),
  );
  if (options.out !== undefined) {
    mkdirSync(dirname(resolve(options.out)), { recursive: true });
    writeFileSync(options.out, text);
  }
  return text;
}
