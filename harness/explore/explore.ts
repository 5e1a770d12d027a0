/**
 * `streamproof explore`: property-based testing over fault schedules. Draws `runs` schedules from the scenario's
 * space (space.ts) with fast-check and the seed, runs each one for real with the same event seed on one shared
 * stack, and stops at the first run whose verdict is `fail` (a checker found an anomaly). Each run is a directory
 * `run-<i>/` with its scenario file, result.json and reports, replayable alone; `explore.json` lists every run (it is
 * rewritten after each, so an interrupted exploration keeps what it did).
 *
 * Exit code: 1 when a run failed (its replay and the shrink command are printed), else 3 when a run could not be
 * judged, else 2 when a run only breached an SLO, else 0.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FaultSpec } from '../faults/index.ts';
import type { RunResult } from '../runner/result.ts';
import type { RunHooks } from '../runner/run.ts';
import type { Scenario } from '../runner/scenario.ts';
import { type StartedStack, startStack } from '../stack/stack.ts';
import { type Progress, silent } from '../util/progress.ts';
import { runCandidate } from './replay.ts';
import { drawSchedules, type ExploreSpace } from './space.ts';

export const EXPLORE_FORMAT = 'streamproof-explore/1';

export interface ExploreRun {
  readonly run: number;
  readonly faults: readonly FaultSpec[];
  readonly verdict: RunResult['verdict'];
  readonly exitCode: RunResult['exitCode'];
  readonly counts: Pick<RunResult['counts'], 'lost' | 'duplicated' | 'reordered' | 'unexpected' | 'undecodable'>;
  readonly scenarioFile: string;
  readonly resultFile: string;
  readonly replay: string;
  readonly seconds: number;
  /** Why it could not be judged (verdict unknown). */
  readonly error?: string;
}

export interface ExploreReport {
  readonly format: typeof EXPLORE_FORMAT;
  readonly scenario: string;
  readonly seed: number;
  readonly runsAsked: number;
  readonly space: {
    readonly source: ExploreSpace['source'];
    readonly min: number;
    readonly max: number;
    readonly kinds: readonly string[];
  };
  readonly runs: readonly ExploreRun[];
  /** The first failing run, if any. */
  readonly failure: ExploreRun | null;
  readonly exitCode: 0 | 1 | 2 | 3;
}

export interface ExploreOptions {
  /** The raw scenario (command-line flags applied): each run's file is it with `faults` replaced. */
  raw: Record<string, unknown>;
  scenario: Scenario;
  space: ExploreSpace;
  runs: number;
  seed: number;
  outDir: string;
  /** An attached stack (`--stack running`); without it the exploration starts one and stops it at the end. */
  stack?: StartedStack;
  replayOf: (scenarioFile: string) => string;
  workers?: number;
  progress?: Progress;
  hooks?: RunHooks;
  writeReports?: (result: RunResult) => void | Promise<void>;
  /** After each run (the CLI prints a line). */
  onRun?: (run: ExploreRun) => void;
}

/** Unknown verdicts in a row after which the exploration stops (a dead stack makes every later run unknown too). */
const UNKNOWN_STREAK = 3;

export async function explore(o: ExploreOptions): Promise<ExploreReport> {
  const progress = o.progress ?? silent;
  const outDir = resolve(o.outDir);
  const schedules = drawSchedules(o.space, o.scenario.load.durationMs, o.seed, o.runs);
  const stack =
    o.stack ??
    (await startStack({
      brokers: o.scenario.stack.brokers,
      registry: o.scenario.stack.registry,
      dir: join(outDir, 'stack'),
      progress,
    }));
  const runs: ExploreRun[] = [];
  const report = (): ExploreReport => {
    const failure = runs.find((r) => r.verdict === 'fail') ?? null;
    const exitCode = failure
      ? 1
      : runs.some((r) => r.verdict === 'unknown')
        ? 3
        : runs.some((r) => r.verdict === 'slo-breach')
          ? 2
          : 0;
    return {
      format: EXPLORE_FORMAT,
      scenario: o.scenario.name,
      seed: o.seed,
      runsAsked: o.runs,
      space: {
        source: o.space.source,
        min: o.space.min,
        max: o.space.max,
        kinds: o.space.templates.map((t) => `${t.kind} ${t.targets.join('|')}`),
      },
      runs,
      failure,
      exitCode,
    };
  };
  const save = () => writeFileSync(join(outDir, 'explore.json'), `${JSON.stringify(report(), null, 2)}\n`);
  let unknownStreak = 0;
  try {
    for (const [i, faults] of schedules.entries()) {
      const n = i + 1;
      progress({
        phase: 'explore',
        message: `run ${n}/${o.runs}: ${faults.length} fault(s): ${faults.map((f) => `${f.kind} ${f.target} at ${f.at}`).join(', ')}`,
        fraction: i / o.runs,
      });
      const started = Date.now();
      const { result, scenarioFile } = await runCandidate({
        raw: o.raw,
        faults,
        dir: join(outDir, `run-${n}`),
        seed: o.seed,
        stack,
        replayOf: o.replayOf,
        ...(o.workers === undefined ? {} : { workers: o.workers }),
        ...(o.hooks ? { hooks: o.hooks } : {}),
        ...(o.writeReports ? { writeReports: o.writeReports } : {}),
      });
      const run: ExploreRun = {
        run: n,
        faults,
        verdict: result.verdict,
        exitCode: result.exitCode,
        counts: {
          lost: result.counts.lost,
          duplicated: result.counts.duplicated,
          reordered: result.counts.reordered,
          unexpected: result.counts.unexpected,
          undecodable: result.counts.undecodable,
        },
        scenarioFile,
        resultFile: join(outDir, `run-${n}`, 'result.json'),
        replay: result.replay,
        seconds: Math.round((Date.now() - started) / 100) / 10,
        ...(result.error ? { error: `${result.error.phase}: ${result.error.message}` } : {}),
      };
      runs.push(run);
      save();
      o.onRun?.(run);
      if (run.verdict === 'fail') break;
      unknownStreak = run.verdict === 'unknown' ? unknownStreak + 1 : 0;
      if (unknownStreak >= UNKNOWN_STREAK) {
        progress({ phase: 'explore', message: `stopping: ${UNKNOWN_STREAK} runs in a row could not be judged` });
        break;
      }
    }
  } finally {
    if (!o.stack) await stack.stop();
  }
  save();
  return report();
}
