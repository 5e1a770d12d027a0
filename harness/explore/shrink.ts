/**
 * Shrinking a failing fault schedule (delta debugging, Zeller's ddmin, over the list of faults, then over their
 * durations). Pure: `test` replays one candidate schedule and says whether it still fails the same way; the caller
 * decides what a replay is (a full run on a real stack, in `shrink-run.ts`).
 *
 * 1. The original is replayed first: a failure that does not come back is reported as flaky and not shrunk.
 * 2. Fewer faults: ddmin removes chunks (halves, then quarters, ... then single faults) while the rest still fails.
 * 3. Shorter faults: each fault's `for` (a kill's `restartAfter`) is halved while it still fails, down to `minForMs`.
 *    Removals are not tried again afterwards: a shorter fault is a weaker one, so a removal that passed with the
 *    longer durations is taken to pass with the shorter ones (this saves a replay per fault left).
 * 4. The result is 1-minimal: no single removal (tried at the longer durations) and no single halving of what is
 *    left still fails. It is replayed once more to confirm; a schedule that failed and then passed is reported as
 *    flaky, never hidden.
 *
 * Every replay is a step with its verdict, kept in order, so a shrink can be read afterwards. Identical candidates
 * are not replayed twice (their first verdict is reused). `maxRuns` bounds the replays; a shrink cut short by it
 * returns the smallest failing schedule found so far, marked `exhausted`.
 */

import type { FaultSpec } from '../faults/index.ts';
import { formatDuration, parseDuration } from '../util/duration.ts';

/** `fail`: the candidate fails as the original did; `pass`: it does not; `unknown`: the replay could not be judged. */
export type StepVerdict = 'fail' | 'pass' | 'unknown';

export interface ShrinkStep {
  /** 1-based replay number. */
  readonly step: number;
  /** What this replay tried: `original`, `remove f2-pause, f5-kill`, `shorten f3-latency to 1s`, `confirm`. */
  readonly action: string;
  readonly faults: readonly FaultSpec[];
  readonly verdict: StepVerdict;
  /** Whatever the caller's replay returned beside the verdict (result file, exit code, duration). */
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface ShrinkOutcome {
  /** Whether the original schedule failed again when replayed. */
  readonly reproduced: boolean;
  /** The smallest schedule that still fails (the original when it did not reproduce). */
  readonly minimal: readonly FaultSpec[];
  readonly steps: readonly ShrinkStep[];
  /** Schedules that both failed and passed (the original, the confirmation of the minimal one). */
  readonly flaky: readonly { readonly action: string; readonly verdicts: readonly StepVerdict[] }[];
  /** True when `maxRuns` stopped the shrink before the schedule was 1-minimal. */
  readonly exhausted: boolean;
}

export interface ShrinkOptions {
  /** Most replays, the original and the confirmation included. Default 60. */
  maxRuns?: number;
  /** Durations are not halved below this. Default 250 ms. */
  minForMs?: number;
  /** Told after each replay (progress). */
  onStep?: (step: ShrinkStep) => void;
}

export type Replay = (
  faults: readonly FaultSpec[],
  action: string,
) => Promise<{ verdict: StepVerdict; detail?: Record<string, unknown> }>;

class Budget extends Error {}

/** Shrinks `faults` (which failed once) with `replay`; see the module comment. */
export async function shrinkSchedule(
  faults: readonly FaultSpec[],
  replay: Replay,
  opts: ShrinkOptions = {},
): Promise<ShrinkOutcome> {
  const maxRuns = opts.maxRuns ?? 60;
  const minForMs = opts.minForMs ?? 250;
  const steps: ShrinkStep[] = [];
  const seen = new Map<string, StepVerdict>();
  // Every candidate the shrink accepts is one that failed: the latest failing one is the best so far.
  let lastFail: readonly FaultSpec[] = faults;

  const run = async (cand: readonly FaultSpec[], action: string, fresh = false): Promise<StepVerdict> => {
    const key = JSON.stringify(cand);
    const known = seen.get(key);
    if (known !== undefined && !fresh) return known;
    if (steps.length >= maxRuns) throw new Budget();
    const { verdict, detail } = await replay(cand, action);
    const step: ShrinkStep = { step: steps.length + 1, action, faults: cand, verdict, ...(detail ? { detail } : {}) };
    steps.push(step);
    opts.onStep?.(step);
    if (known === undefined) seen.set(key, verdict);
    if (verdict === 'fail') lastFail = cand;
    return verdict;
  };

  const flaky: { action: string; verdicts: StepVerdict[] }[] = [];
  const first = await run(faults, 'original');
  if (first !== 'fail') {
    flaky.push({ action: 'original', verdicts: ['fail', first] });
    return { reproduced: false, minimal: faults, steps, flaky, exhausted: false };
  }

  let cur = [...faults];
  let exhausted = false;
  try {
    cur = await ddmin(cur, run);
    cur = await shorten(cur, run, minForMs);
  } catch (err) {
    if (!(err instanceof Budget)) throw err;
    exhausted = true;
    cur = [...lastFail];
  }
  if (!exhausted && steps.length < maxRuns) {
    const again = await run(cur, 'confirm', true);
    if (again !== 'fail') flaky.push({ action: 'minimal schedule', verdicts: ['fail', again] });
  }
  return { reproduced: true, minimal: cur, steps, flaky, exhausted };
}

type Run = (cand: readonly FaultSpec[], action: string) => Promise<StepVerdict>;

/** ddmin by complements: remove one of n chunks while the rest fails; n doubles when none can go. */
async function ddmin(start: FaultSpec[], run: Run): Promise<FaultSpec[]> {
  let cur = start;
  let n = Math.min(2, Math.max(cur.length, 1));
  while (cur.length > 0) {
    const chunks = split(cur, Math.min(n, cur.length));
    let reduced = false;
    for (const chunk of chunks) {
      const cand = cur.filter((f) => !chunk.includes(f));
      if ((await run(cand, `remove ${chunk.map(label).join(', ')}`)) === 'fail') {
        cur = cand;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= cur.length) break;
      n = Math.min(cur.length, n * 2);
    }
  }
  return cur;
}

/** Halves one duration at a time while the schedule still fails; returns `cur` itself when nothing got shorter. */
async function shorten(cur: FaultSpec[], run: Run, minForMs: number): Promise<FaultSpec[]> {
  let best = cur;
  for (let i = 0; i < best.length; i++) {
    for (;;) {
      const f = best[i]!;
      const field = 'restartAfter' in f && f.restartAfter !== undefined ? 'restartAfter' : 'for';
      const raw = (f as unknown as Record<string, unknown>)[field];
      if (raw === undefined) break;
      const ms = parseDuration(raw, field);
      const half = Math.max(minForMs, Math.floor(ms / 2));
      if (half >= ms) break;
      const shorter = { ...f, [field]: `${half}ms` } as FaultSpec;
      const cand = best.map((x, j) => (j === i ? shorter : x));
      if ((await run(cand, `shorten ${label(f)} to ${formatDuration(half)}`)) !== 'fail') break;
      best = cand;
    }
  }
  return best;
}

function split<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  const size = xs.length / n;
  for (let i = 0; i < n; i++) out.push(xs.slice(Math.round(i * size), Math.round((i + 1) * size)));
  return out.filter((c) => c.length > 0);
}

/** A fault's name in step descriptions: its `name`, else `kind target`. */
export function label(f: FaultSpec): string {
  return f.name ?? `${f.kind} ${f.target}`;
}
