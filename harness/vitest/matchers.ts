/**
 * Assertions on a run's result, for any test runner: each takes a RunResult (what `run()` resolves with) or the path
 * of a stored result.json and says whether the run holds the property, with a message that lists what broke (a few
 * examples of each anomaly), the seed, the command that replays the run and where its result.json is. `vitest.ts`
 * registers them with `expect.extend` (`streamproof/vitest`); nothing here depends on vitest.
 */
import { loadResult } from '../../reports/input.ts';
import type { RunResult } from '../runner/result.ts';

/** What a matcher returns (the shape vitest's and jest's `expect.extend` take). */
export interface MatcherOutcome {
  pass: boolean;
  message: () => string;
}

/** How many examples of each anomaly a message shows. */
export const EXAMPLES = 3;

function received(value: unknown): RunResult | string {
  if (typeof value === 'string') {
    try {
      return loadResult(value);
    } catch (err) {
      return `expected a streamproof result, but ${(err as Error).message}`;
    }
  }
  const r = value as Partial<RunResult> | null;
  if (r === null || typeof r !== 'object' || typeof r.verdict !== 'string' || typeof r.counts !== 'object') {
    return `expected a streamproof RunResult (what run() resolves with) or the path of a result.json, got ${describe(value)}`;
  }
  return r as RunResult;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') {
    const keys = Object.keys(value).slice(0, 5);
    return `an object with keys ${keys.length ? keys.join(', ') : '(none)'}`;
  }
  return `${typeof value} ${JSON.stringify(value)?.slice(0, 80)}`;
}

function example(x: unknown): string {
  if (typeof x === 'string') return x;
  const s = JSON.stringify(x);
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
}

/** "  lost: 171 (e.g. p0:12, p0:13, p1:7; all in .../anomalies.json)" */
function anomalyLine(r: RunResult, name: 'lost' | 'duplicated' | 'unexpected' | 'reordered' | 'unseen'): string {
  const count = r.counts[name] ?? 0;
  const list = (r.anomalies?.[name] ?? []) as readonly unknown[];
  const shown = list.slice(0, EXAMPLES).map(example);
  const where = r.files?.anomalies ? `; all in ${r.files.anomalies}` : '';
  const eg = shown.length ? ` (e.g. ${shown.join(', ')}${count > shown.length ? ', ...' : ''}${where})` : '';
  return `  ${name}: ${count}${eg}`;
}

/** The lines every message ends with: the verdict, why it was unknown, the seed, the replay command, the files. */
function footer(r: RunResult): string[] {
  const lines = [`  verdict: ${r.verdict} (exit ${r.exitCode})`];
  if (r.error) {
    const where = r.error.phase ? ` in phase ${r.error.phase}` : '';
    lines.push(`  harness error${where}: ${r.error.code}: ${r.error.message}`);
  }
  const notes = (r.notes ?? []).slice(0, EXAMPLES);
  for (const n of notes) lines.push(`  note: ${n}`);
  lines.push(`  seed: ${r.seed}`);
  if (r.replay) lines.push(`  replay: ${r.replay}`);
  if (r.files?.result) lines.push(`  result: ${r.files.result}`);
  if (r.files?.report) lines.push(`  report: ${r.files.report}`);
  return lines;
}

function invalid(message: string): MatcherOutcome {
  return { pass: false, message: () => message };
}

function outcome(r: RunResult, pass: boolean, what: string, problems: string[]): MatcherOutcome {
  return {
    pass,
    message: () =>
      pass
        ? [`expected run "${r.name}" not to ${what}, but it does`, ...footer(r)].join('\n')
        : [`expected run "${r.name}" to ${what}, but:`, ...problems, ...footer(r)].join('\n'),
  };
}

/**
 * Every acknowledged input came out exactly once (nothing lost, duplicated or unexpected) and the run was decided
 * (not `unknown`: a run that could not tell does not prove exactly-once).
 */
export function toBeExactlyOnce(value: unknown): MatcherOutcome {
  const r = received(value);
  if (typeof r === 'string') return invalid(r);
  const problems: string[] = [];
  for (const name of ['lost', 'duplicated', 'unexpected'] as const) {
    if ((r.counts[name] ?? 0) > 0) problems.push(anomalyLine(r, name));
  }
  if ((r.counts.unseen ?? 0) > 0) problems.push(anomalyLine(r, 'unseen'));
  const contract = r.checkers?.['exactly-once'] ?? r.checkers?.attribution;
  if (contract && contract.valid !== true) {
    const types = contract.anomalyTypes.length ? ` (${contract.anomalyTypes.join(', ')})` : '';
    problems.push(
      `  checker ${r.checkers['exactly-once'] ? 'exactly-once' : 'attribution'}: ${contract.valid}${types}${contract.reason ? `: ${contract.reason}` : ''}`,
    );
  }
  if (!contract && r.verdict !== 'unknown') problems.push('  no exactly-once or attribution checker in the result');
  if (r.verdict === 'unknown') problems.unshift('  the verdict is unknown: the run could not decide');
  return outcome(r, problems.length === 0, 'be exactly once', problems);
}

/** Per-key (per-user) order was kept in the output, and the run was decided. */
export function toKeepOrder(value: unknown): MatcherOutcome {
  const r = received(value);
  if (typeof r === 'string') return invalid(r);
  const problems: string[] = [];
  if (r.verdict === 'unknown') problems.push('  the verdict is unknown: the run could not decide');
  if ((r.counts.reordered ?? 0) > 0) problems.push(anomalyLine(r, 'reordered'));
  const order = r.checkers?.order;
  if (!order) problems.push('  no order checker in the result');
  else if (order.valid !== true && (r.counts.reordered ?? 0) === 0) {
    problems.push(`  checker order: ${order.valid}${order.reason ? `: ${order.reason}` : ''}`);
  }
  return outcome(r, problems.length === 0, 'keep per-key order', problems);
}

interface ThresholdView {
  metric?: string;
  expression?: string;
  ok?: boolean;
  observed?: number | null;
  limit?: number;
  unit?: string;
}

/** Every SLO threshold of the scenario held (and the run was decided). */
export function toMeetSlo(value: unknown): MatcherOutcome {
  const r = received(value);
  if (typeof r === 'string') return invalid(r);
  const problems: string[] = [];
  if (r.verdict === 'unknown') problems.push('  the verdict is unknown: the run could not decide');
  const slo = r.slo as { thresholds?: ThresholdView[]; breaches?: ThresholdView[] } | null | undefined;
  const checker = r.checkers?.slo;
  const breaches = slo?.breaches ?? (slo?.thresholds ?? []).filter((t) => t.ok === false);
  for (const b of breaches) {
    const unit = b.unit ?? '';
    const observed = b.observed === null || b.observed === undefined ? 'nothing observed' : `${b.observed}${unit}`;
    problems.push(`  ${b.metric}: ${b.expression} breached: ${observed}, limit ${b.limit}${unit}`);
  }
  if (checker && checker.valid !== true && breaches.length === 0) {
    problems.push(`  checker slo: ${checker.valid}${checker.reason ? `: ${checker.reason}` : ''}`);
  }
  return outcome(r, problems.length === 0, 'meet its SLOs', problems);
}

/** The run passed: every invariant held and every SLO was met (verdict "pass", exit 0). */
export function toPass(value: unknown): MatcherOutcome {
  const r = received(value);
  if (typeof r === 'string') return invalid(r);
  const problems: string[] = [];
  for (const name of ['lost', 'duplicated', 'unexpected', 'reordered', 'unseen'] as const) {
    if ((r.counts[name] ?? 0) > 0) problems.push(anomalyLine(r, name));
  }
  for (const [name, c] of Object.entries(r.checkers ?? {})) {
    if (c.valid !== true) {
      const types = c.anomalyTypes.length ? ` (${c.anomalyTypes.join(', ')})` : '';
      problems.push(`  checker ${name}: ${c.valid}${types}${c.reason ? `: ${c.reason}` : ''}`);
    }
  }
  if (r.verdict !== 'pass' && problems.length === 0) problems.push(`  the verdict is ${r.verdict}`);
  return outcome(r, r.verdict === 'pass' && problems.length === 0, 'pass', problems);
}

/** The matchers, by name, for `expect.extend`. */
export const matchers = { toBeExactlyOnce, toKeepOrder, toMeetSlo, toPass } as const;
