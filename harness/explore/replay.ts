/**
 * One candidate of an exploration or a shrink, run for real: the scenario as its file says, with `faults` replaced by
 * the candidate schedule, written as a scenario file of its own (so every step is a plain `streamproof run <file>
 * --seed N` a person can replay), run on a stack shared by every step, with the same event seed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultSpec } from '../faults/index.ts';
import type { RunResult } from '../runner/result.ts';
import { type RunHooks, runScenario } from '../runner/run.ts';
import { validateScenario } from '../runner/scenario.ts';
import type { StartedStack } from '../stack/stack.ts';
import { StreamproofError } from '../util/errors.ts';
import type { Progress } from '../util/progress.ts';

/** What a replay command says: `streamproof run <file> [--sut S] [--contract C] [--stack running] [--workers N] --seed N`. */
export interface ReplaySpec {
  file: string;
  sut?: string;
  contract?: string;
  stack?: 'running';
  workers?: number;
  seed: number;
}

/** Splits a command line as a POSIX shell does for the quoting `shellQuote` writes (bare words, '...', \'). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new StreamproofError('USAGE', `unterminated quote in: ${line}`);
      cur = (cur ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '\\' && i + 1 < line.length) {
      cur = (cur ?? '') + line[++i];
    } else if (/\s/.test(c)) {
      if (cur !== undefined) words.push(cur);
      cur = undefined;
    } else {
      cur = (cur ?? '') + c;
    }
  }
  if (cur !== undefined) words.push(cur);
  return words;
}

/** Reads a result's `replay` command back; USAGE (exit 64) when it is not one `streamproof run` wrote. */
export function parseReplay(line: string): ReplaySpec {
  const w = shellWords(line);
  const bad = (why: string) =>
    new StreamproofError('USAGE', `not a replay command streamproof wrote (${why}): ${line}`);
  if (w[0] !== 'streamproof' || w[1] !== 'run' || w[2] === undefined || w[2].startsWith('--')) {
    throw bad('expected "streamproof run <scenario> ..."');
  }
  const spec: Partial<ReplaySpec> & { file: string } = { file: w[2] };
  for (let i = 3; i < w.length; i += 2) {
    const [flag, value] = [w[i]!, w[i + 1]];
    if (value === undefined) throw bad(`${flag} without a value`);
    if (flag === '--sut') spec.sut = value;
    else if (flag === '--contract') spec.contract = value;
    else if (flag === '--stack' && value === 'running') spec.stack = 'running';
    else if (flag === '--workers') spec.workers = Number(value);
    else if (flag === '--seed') spec.seed = Number(value);
    else throw bad(`unexpected ${flag}`);
  }
  if (spec.seed === undefined || !Number.isSafeInteger(spec.seed)) throw bad('no --seed');
  return spec as ReplaySpec;
}

/** The raw scenario with `--sut` / `--contract` applied as `streamproof run` applies them. */
export function withFlags(raw: unknown, flags: Pick<ReplaySpec, 'sut' | 'contract'>): Record<string, unknown> {
  const out = structuredClone(raw) as Record<string, unknown> & { sut: Record<string, unknown> };
  if (flags.sut !== undefined) out.sut = { ...out.sut, command: flags.sut };
  if (flags.contract !== undefined) {
    const model = /^model:(.+)$/.exec(flags.contract)?.[1];
    out.sut = { ...out.sut, contract: model === undefined ? flags.contract : { model } };
    if (flags.contract !== 'lineage') delete out.sut.lineage;
  }
  return out;
}

export interface CandidateOptions {
  /** The raw scenario (flags applied); its `faults` are replaced. */
  raw: Record<string, unknown>;
  faults: readonly FaultSpec[];
  /** The step's directory: its scenario.json, result.json, history and reports. */
  dir: string;
  seed: number;
  stack: StartedStack;
  /** The command that replays a scenario file, without `--seed` (the CLI's: `streamproof run <file> [--stack running]`). */
  replayOf: (scenarioFile: string) => string;
  workers?: number;
  progress?: Progress;
  hooks?: RunHooks;
  writeReports?: (result: RunResult) => void | Promise<void>;
}

/** Writes the candidate's scenario file and runs it; the result's `replay` replays this very step. */
export async function runCandidate(o: CandidateOptions): Promise<{ result: RunResult; scenarioFile: string }> {
  mkdirSync(o.dir, { recursive: true });
  const raw = { ...o.raw, faults: o.faults };
  const scenarioFile = join(o.dir, 'scenario.json');
  writeFileSync(scenarioFile, `${JSON.stringify(raw, null, 2)}\n`);
  const scenario = validateScenario(raw);
  const result = await runScenario({
    scenario,
    scenarioFile,
    seed: o.seed,
    outDir: o.dir,
    stack: o.stack,
    replayBase: o.replayOf(scenarioFile),
    ...(o.workers === undefined ? {} : { workers: o.workers }),
    ...(o.progress ? { progress: o.progress } : {}),
    ...(o.hooks ? { hooks: o.hooks } : {}),
    ...(o.writeReports ? { writeReports: o.writeReports } : {}),
  });
  return { result, scenarioFile };
}
