/**
 * Certification: run a suite of scenarios (suite.ts), judge them together (certification.ts), and, given a baseline
 * (baseline.ts: the output directory of an earlier certification), compare each scenario with it (compare.ts).
 *
 * Each scenario runs with the runner (`runScenario`), at its own fixed seed (`events.seed`) unless a seed override is
 * given, so a baseline and a candidate offer the same events. Its outputs go to `OUT/<scenario name>/` (result.json
 * and the run's reports beside it). Scenarios that need no broker fault share one stack per broker count (a stack
 * start is most of a short run's time); one that kills or restarts a broker gets a stack of its own.
 * The certification is written to `OUT/certification.json` (its record: a later baseline reads it). The reports,
 * each run's and the certification's Markdown, HTML and JUnit, are written by what the caller passes as `reports`
 * (the CLI and the library pass reports/certify.ts's `certificationReports`).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { RunResult } from '../runner/result.ts';
import { runScenario } from '../runner/run.ts';
import type { Scenario } from '../runner/scenario.ts';
import { type StartedStack, startStack } from '../stack/stack.ts';
import { type Progress, silent } from '../util/progress.ts';
import type { Baseline } from './baseline.ts';
import { buildCertification, type Certification, type CertificationRun, certificationRun } from './certification.ts';
import type { Tolerances } from './compare.ts';
import type { Suite, SuiteEntry } from './suite.ts';

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
  /** Writes the reports: each run's (its `reports` phase) and the certification's. Default none. */
  readonly reports?: CertificationReports;
}

export interface CertificationReports {
  /** One run's reports beside its result.json; a throw makes that run unknown (phase `reports`). */
  run(result: RunResult): void | Promise<void>;
  /** The certification's reports into `outDir`, beside certification.json. */
  certification(outDir: string, certification: Certification, results: readonly RunResult[]): void;
}

export interface CertifyOutcome {
  readonly certification: Certification;
  readonly results: readonly RunResult[];
}

const brokerFault = (sc: Scenario) =>
  sc.faults.some((f) => ['kill', 'restart'].includes(f.kind) && String(f.target).startsWith('broker:'));

export async function certify(opts: CertifyOptions): Promise<CertifyOutcome> {
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
      // A scenario on a cluster of its own (stack.external) connects to it itself.
      let stack = sc.stack.external ? undefined : opts.stack;
      if (!stack && !brokerFault(sc) && !sc.stack.external) {
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
          ...(opts.reports ? { writeReports: (r: RunResult) => opts.reports!.run(r) } : {}),
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
  writeFileSync(join(outDir, certification.files.json), `${JSON.stringify(certification, null, 2)}\n`);
  opts.reports?.certification(outDir, certification, results);
  return { certification, results };
}
