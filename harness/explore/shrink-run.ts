/**
 * `streamproof shrink <result.json>`: the failing run's schedule, shrunk by replaying it for real (shrink.ts) with
 * the same event seed, on one shared stack. A step `fails` when its exit code equals the original's (1: an anomaly;
 * 2: an SLO breach), `unknown` when it could not be judged, else it passes.
 *
 * Writes into the out dir: `step-<n>/` per replay (scenario file, result.json, reports), `minimal.json` (the
 * scenario with the minimal schedule), `minimal-result.json` (the result of its last failing replay), and
 * `shrink.json` (every step with its verdict, the flaky ones, the replay command of the minimal scenario).
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FaultSpec } from '../faults/index.ts';
import type { RunResult } from '../runner/result.ts';
import { loadResult } from '../runner/result-file.ts';
import type { RunHooks } from '../runner/run.ts';
import { loadScenario, validateScenario } from '../runner/scenario.ts';
import { type StartedStack, startStack } from '../stack/stack.ts';
import { StreamproofError } from '../util/errors.ts';
import { type Progress, silent } from '../util/progress.ts';
import { parseReplay, runCandidate, withFlags } from './replay.ts';
import { label, type ShrinkOutcome, type ShrinkStep, type StepVerdict, shrinkSchedule } from './shrink.ts';

export const SHRINK_FORMAT = 'streamproof-shrink/1';

export interface ShrinkReport {
  readonly format: typeof SHRINK_FORMAT;
  readonly original: { readonly result: string; readonly replay: string; readonly faults: readonly FaultSpec[] };
  readonly seed: number;
  readonly reproduced: boolean;
  readonly minimal: readonly FaultSpec[];
  /** `minimal.json` and the command that replays it; null when the failure did not reproduce. */
  readonly minimalScenario: string | null;
  readonly minimalResult: string | null;
  readonly replay: string | null;
  readonly steps: readonly ShrinkStep[];
  readonly flaky: ShrinkOutcome['flaky'];
  readonly exhausted: boolean;
  readonly seconds: number;
  /** The original's exit code when the minimal schedule fails the same way; 3 when the failure did not reproduce. */
  readonly exitCode: 1 | 2 | 3;
}

export interface ShrinkRunOptions {
  resultFile: string;
  outDir: string;
  maxRuns?: number;
  minForMs?: number;
  /** An attached stack (`--stack running`); without it the shrink starts one and stops it at the end. */
  stack?: StartedStack;
  replayOf: (scenarioFile: string) => string;
  progress?: Progress;
  hooks?: RunHooks;
  writeReports?: (result: RunResult) => void | Promise<void>;
  onStep?: (step: ShrinkStep) => void;
}

/** The faults a result ran, as a scenario can write them: start times as they happened in the plan, every one named. */
export function concreteFaults(result: RunResult): FaultSpec[] {
  const plan = (result.faultSchedule as { plan?: { atMs: number }[] } | null)?.plan;
  return result.scenario.faults.map((f, i) => ({
    ...f,
    at: f.at === 'random' && plan?.[i] ? `${plan[i]!.atMs}ms` : f.at,
    name: f.name ?? `f${i + 1}-${f.kind}`,
  }));
}

export async function shrinkRun(o: ShrinkRunOptions): Promise<ShrinkReport> {
  const started = Date.now();
  const progress = o.progress ?? silent;
  const original = loadResult(o.resultFile);
  if (original.exitCode !== 1 && original.exitCode !== 2) {
    throw new StreamproofError(
      'USAGE',
      `${o.resultFile}: verdict ${original.verdict} (exit ${original.exitCode}); shrink takes a failing run (verdict fail or slo-breach)`,
    );
  }
  const replay = parseReplay(original.replay);
  const loaded = await loadScenario(replay.file).catch((err: unknown) => {
    throw new StreamproofError(
      'USAGE',
      `${o.resultFile}: its scenario ${replay.file} cannot be loaded from ${process.cwd()} (${(err as Error).message}); run shrink from the directory the run ran in`,
    );
  });
  const raw = withFlags(loaded.raw, replay);
  const faults = concreteFaults(original);
  validateScenario({ ...raw, faults });
  const outDir = resolve(o.outDir);
  const stack =
    o.stack ??
    (await startStack({
      brokers: original.scenario.stack.brokers,
      registry: original.scenario.stack.registry,
      dir: join(outDir, 'stack'),
      progress,
    }));
  const lastFailing = new Map<string, string>();
  let outcome: ShrinkOutcome;
  try {
    let n = 0;
    outcome = await shrinkSchedule(
      faults,
      async (cand, action) => {
        n++;
        progress({
          phase: 'shrink',
          message: `step ${n}: ${action} (${cand.length} fault(s): ${cand.map(label).join(', ') || 'none'})`,
        });
        const dir = join(outDir, `step-${n}`);
        const { result } = await runCandidate({
          raw,
          faults: cand,
          dir,
          seed: replay.seed,
          stack,
          replayOf: o.replayOf,
          ...(replay.workers === undefined ? {} : { workers: replay.workers }),
          ...(o.hooks ? { hooks: o.hooks } : {}),
          ...(o.writeReports ? { writeReports: o.writeReports } : {}),
        });
        const verdict: StepVerdict =
          result.exitCode === original.exitCode ? 'fail' : result.verdict === 'unknown' ? 'unknown' : 'pass';
        if (verdict === 'fail') lastFailing.set(JSON.stringify(cand), join(dir, 'result.json'));
        return {
          verdict,
          detail: {
            exitCode: result.exitCode,
            verdict: result.verdict,
            lost: result.counts.lost,
            duplicated: result.counts.duplicated,
            result: join(dir, 'result.json'),
            replay: result.replay,
            ...(result.error ? { error: `${result.error.phase}: ${result.error.message}` } : {}),
          },
        };
      },
      {
        ...(o.maxRuns === undefined ? {} : { maxRuns: o.maxRuns }),
        ...(o.minForMs === undefined ? {} : { minForMs: o.minForMs }),
        ...(o.onStep ? { onStep: o.onStep } : {}),
      },
    );
  } finally {
    if (!o.stack) await stack.stop();
  }
  let minimalScenario: string | null = null;
  let minimalResult: string | null = null;
  let replayCmd: string | null = null;
  if (outcome.reproduced) {
    minimalScenario = join(outDir, 'minimal.json');
    writeFileSync(minimalScenario, `${JSON.stringify({ ...raw, faults: outcome.minimal }, null, 2)}\n`);
    replayCmd = `${o.replayOf(minimalScenario)} --seed ${replay.seed}`;
    const from = lastFailing.get(JSON.stringify(outcome.minimal));
    if (from) {
      minimalResult = join(outDir, 'minimal-result.json');
      copyFileSync(from, minimalResult);
    }
  }
  const report: ShrinkReport = {
    format: SHRINK_FORMAT,
    original: { result: resolve(o.resultFile), replay: original.replay, faults },
    seed: replay.seed,
    reproduced: outcome.reproduced,
    minimal: outcome.minimal,
    minimalScenario,
    minimalResult,
    replay: replayCmd,
    steps: outcome.steps,
    flaky: outcome.flaky,
    exhausted: outcome.exhausted,
    seconds: Math.round((Date.now() - started) / 1000),
    exitCode: outcome.reproduced ? (original.exitCode as 1 | 2) : 3,
  };
  writeFileSync(join(outDir, 'shrink.json'), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
