import { describe, expect, it } from 'vitest';
import { comparableResult as result } from '../../reports/fixtures.ts';
import {
  activeRate,
  type ComparableResult,
  compareRuns,
  compareSuites,
  DEFAULT_TOLERANCES,
  resolveTolerances,
} from './compare.ts';

const flagged = (b: ComparableResult, c: ComparableResult, t = DEFAULT_TOLERANCES) => compareRuns(b, c, t).regressions;
const rowOf = (b: ComparableResult, c: ComparableResult, metric: string) =>
  compareRuns(b, c).rows.find((r) => r.metric === metric)!;

describe('compareRuns', () => {
  it('flags nothing when the candidate equals the baseline, and every judged row is ok', () => {
    const c = compareRuns(result(), result());
    expect(c.regressions).toEqual([]);
    expect(c.notes).toEqual([]);
    expect(c.rows.map((r) => r.metric)).toEqual([
      'verdict',
      'anomalies.lost',
      'anomalies.duplicated',
      'anomalies.unexpected',
      'anomalies.reordered',
      'anomalies.undecodable',
      'checker.attribution',
      'checker.order',
      'checker.schema',
      'checker.latency',
      'checker.slo',
      'throughput.acked_per_s',
      'throughput.observed_per_s',
      'latency.e2e_p50_ms',
      'latency.e2e_p95_ms',
      'latency.e2e_p99_ms',
    ]);
    for (const r of c.rows) expect(['ok', 'info']).toContain(r.verdict);
  });

  it('an injected duplicate flags exactly the duplicated count and the contract checker', () => {
    const cand = result({
      verdict: 'fail',
      counts: { duplicated: 12 },
      checkers: { attribution: false, order: true, schema: true, latency: true, slo: true },
    });
    expect(flagged(result(), cand)).toEqual(['anomalies.duplicated', 'checker.attribution']);
    const dup = rowOf(result(), cand, 'anomalies.duplicated');
    expect(dup).toMatchObject({ baseline: 0, candidate: 12, change: 12, changePct: null, rule: 'any rise' });
  });

  it('each anomaly kind rising by one is a regression; falling is an improvement', () => {
    for (const a of ['lost', 'duplicated', 'unexpected', 'reordered', 'undecodable'] as const) {
      expect(flagged(result({ counts: { [a]: 2 } }), result({ counts: { [a]: 3 } }))).toEqual([`anomalies.${a}`]);
      expect(rowOf(result({ counts: { [a]: 3 } }), result({ counts: { [a]: 2 } }), `anomalies.${a}`).verdict).toBe(
        'improved',
      );
    }
  });

  it('a checker valid -> invalid is a regression (the slo checker too); invalid -> invalid is not new', () => {
    const all = { attribution: true, order: true, schema: true, latency: true, slo: true };
    expect(flagged(result(), result({ verdict: 'slo-breach', checkers: { ...all, slo: false } }))).toEqual([
      'checker.slo',
    ]);
    const bad = { ...all, order: false };
    expect(flagged(result({ checkers: bad }), result({ checkers: bad }))).toEqual([]);
    expect(rowOf(result({ checkers: bad }), result(), 'checker.order').verdict).toBe('improved');
  });

  it('a checker on one side only is shown, not judged', () => {
    const r = rowOf(result(), result({ checkers: { attribution: true, extra: true } }), 'checker.extra');
    expect(r).toMatchObject({ baseline: null, candidate: true, verdict: 'info' });
  });

  it('throughput: a drop beyond the tolerance flags, a drop within it does not (acked and observed apart)', () => {
    expect(flagged(result(), result({ acked: 271 }))).toEqual([]); // -9.7%
    expect(flagged(result(), result({ acked: 269 }))).toEqual(['throughput.acked_per_s']); // -10.3%
    expect(flagged(result(), result({ observed: 620 }))).toEqual(['throughput.observed_per_s']); // -11.4%
    expect(flagged(result(), result({ observed: 2000 }))).toEqual([]); // a rise is never a regression
    expect(rowOf(result(), result({ observed: 2000 }), 'throughput.observed_per_s').verdict).toBe('improved');
    const t = { ...DEFAULT_TOLERANCES, throughputPct: 50 };
    expect(flagged(result(), result({ acked: 160 }), t)).toEqual([]);
    const r = rowOf(result(), result({ acked: 150 }), 'throughput.acked_per_s');
    expect(r).toMatchObject({ change: -150, changePct: -50, rule: 'drop > 10%' });
  });

  it('latency: p95 and p99 flag a rise beyond both the percentage and the floor; p50 is shown only', () => {
    // 400 -> 481: +20.25% and +81 ms: flags.
    expect(flagged(result(), result({ p95: 481 }))).toEqual(['latency.e2e_p95_ms']);
    // 400 -> 479: +19.75%: within.
    expect(flagged(result(), result({ p95: 479 }))).toEqual([]);
    // 600 -> 800 on p99.
    expect(flagged(result(), result({ p99: 800 }))).toEqual(['latency.e2e_p99_ms']);
    // p50 doubling is context, not a gate.
    expect(flagged(result(), result({ p50: 900 }))).toEqual([]);
    // tiny numbers: 10 -> 30 ms is +200% but only +20 ms, under the 25 ms floor.
    expect(flagged(result({ p95: 10 }), result({ p95: 30 }))).toEqual([]);
    expect(flagged(result({ p95: 10 }), result({ p95: 36 }))).toEqual(['latency.e2e_p95_ms']);
    // a big drop is an improvement, never a regression.
    expect(rowOf(result(), result({ p95: 100 }), 'latency.e2e_p95_ms').verdict).toBe('improved');
    expect(rowOf(result(), result({ p95: 481 }), 'latency.e2e_p95_ms').rule).toBe('rise > 20% and > 25 ms');
  });

  it('the tolerances are honoured as given', () => {
    const t = { throughputPct: 10, latencyPct: 100, latencyFloorMs: 500 };
    expect(flagged(result(), result({ p95: 800, p99: 1100 }), t)).toEqual([]);
    expect(flagged(result(), result({ p95: 901 }), t)).toEqual(['latency.e2e_p95_ms']);
  });

  it('a slower build flags latency and nothing else; an injected duplicate flags no latency', () => {
    const slow = result({ p50: 600, p95: 1200, p99: 1500 });
    expect(flagged(result(), slow)).toEqual(['latency.e2e_p95_ms', 'latency.e2e_p99_ms']);
  });

  it('missing numbers are unknown, never ok', () => {
    const c = compareRuns(result(), result({ p95: null, acked: null }));
    expect(c.rows.find((r) => r.metric === 'latency.e2e_p95_ms')!.verdict).toBe('unknown');
    expect(c.rows.find((r) => r.metric === 'throughput.acked_per_s')!.verdict).toBe('unknown');
    expect(c.regressions).toEqual([]);
  });

  it('a run with verdict unknown is not judged: its rows are unknown and it flags nothing', () => {
    const c = compareRuns(result(), result({ verdict: 'unknown', counts: { lost: 3000 }, acked: 0, p95: 9000 }));
    expect(c.regressions).toEqual([]);
    expect(c.rows.find((r) => r.metric === 'anomalies.lost')!.verdict).toBe('unknown');
    expect(c.rows.find((r) => r.metric === 'latency.e2e_p95_ms')!.verdict).toBe('unknown');
    expect(c.notes).toEqual(['the candidate run has verdict unknown: its numbers are not judged']);
    expect(compareRuns(result({ verdict: 'unknown' }), result()).notes[0]).toMatch(/baseline run has verdict unknown/);
  });

  it('notes differing seeds', () => {
    expect(compareRuns(result({ seed: 1 }), result({ seed: 2 })).notes).toEqual([
      'seeds differ (baseline 1, candidate 2): the runs offered different events',
    ]);
  });
});

describe('throughput while active', () => {
  const secs = (acked: number[], observed: number[]) => acked.map((a, i) => ({ acked: a, observed: observed[i] ?? 0 }));

  it('activeRate: the sum over the seconds from the first to the last non-zero one; trimmed: without those two', () => {
    expect(activeRate([], (p) => p.acked)).toBeNull();
    expect(activeRate(secs([0, 0], [0, 0]), (p) => p.acked)).toBeNull();
    // leading and trailing empty seconds never count
    expect(activeRate(secs([0, 100, 300, 300, 300, 200, 0, 0], []), (p) => p.acked)).toBe(240);
    expect(activeRate(secs([0, 100, 300, 300, 300, 200, 0, 0], []), (p) => p.acked, true)).toBe(300);
    // an empty second inside the span does (a stall is a drop); so do the seconds between micro-batches
    expect(activeRate(secs([100, 300, 0, 300, 100], []), (p) => p.acked, true)).toBe(200);
    expect(activeRate(secs([0, 0, 0, 30, 0, 0, 30, 0, 0, 30], []), (p) => p.acked)).toBe(90 / 7);
    // too short to trim
    expect(activeRate(secs([50, 70], []), (p) => p.acked, true)).toBe(60);
  });

  it('a build that answers later (same output, shifted) is not a throughput drop; one that cannot keep up is', () => {
    const acked = [150, 300, 300, 300, 300, 300, 150, 0, 0, 0, 0, 0];
    const base = result({ series: secs(acked, [0, 5, 10, 10, 10, 10, 10, 5, 0, 0, 0, 0]) });
    const shifted = result({ series: secs(acked, [0, 0, 0, 0, 5, 10, 10, 10, 10, 10, 5, 0]) });
    expect(flagged(base, shifted)).toEqual([]);
    // the same 60 records later, in three micro-batches 3 s apart: not a throughput drop either
    const batched = result({ series: secs(acked, [0, 0, 0, 0, 0, 20, 0, 0, 20, 0, 0, 20]) });
    expect(flagged(base, batched)).toEqual([]);
    // 60 records in 7 seconds before, now spread over 11: the pipeline falls behind
    const slow = result({ series: secs(acked, [0, 3, 6, 6, 6, 6, 6, 6, 6, 6, 6, 3]) });
    expect(flagged(base, slow)).toEqual(['throughput.observed_per_s']);
    expect(rowOf(base, slow, 'throughput.observed_per_s')).toMatchObject({ baseline: 60 / 7, candidate: 60 / 11 });
    // the load's acks: 300/s inside, the partial edge seconds left out
    expect(rowOf(base, slow, 'throughput.acked_per_s')).toMatchObject({ baseline: 300, candidate: 300 });
  });
});

describe('compareSuites', () => {
  const suite = (...rs: ComparableResult[]) => new Map(rs.map((r) => [r.name, r]));

  it('reports scenarios present on one side only, and lists every regression with its scenario', () => {
    const c = compareSuites(
      suite(result({ name: 'steady' }), result({ name: 'kill' }), result({ name: 'gone' })),
      suite(
        result({ name: 'steady' }),
        result({ name: 'kill', counts: { lost: 1 } }),
        result({ name: 'new', counts: { lost: 5 } }),
      ),
    );
    expect(c.scenarios.map((s) => [s.scenario, s.status])).toEqual([
      ['steady', 'compared'],
      ['kill', 'compared'],
      ['new', 'only-in-candidate'],
      ['gone', 'only-in-baseline'],
    ]);
    expect(c.onlyInBaseline).toEqual(['gone']);
    expect(c.onlyInCandidate).toEqual(['new']);
    expect(c.regressions).toEqual([
      { scenario: 'kill', metric: 'anomalies.lost', baseline: 0, candidate: 1, rule: 'any rise' },
    ]);
    expect(c.tolerances).toEqual(DEFAULT_TOLERANCES);
  });
});

describe('resolveTolerances', () => {
  it('fills defaults, layers over a base, and names the bad key', () => {
    expect(resolveTolerances(undefined)).toEqual(DEFAULT_TOLERANCES);
    expect(resolveTolerances({ latencyPct: 50 })).toEqual({ ...DEFAULT_TOLERANCES, latencyPct: 50 });
    expect(resolveTolerances({ throughputPct: 5 }, 'x', { ...DEFAULT_TOLERANCES, latencyFloorMs: 100 })).toEqual({
      throughputPct: 5,
      latencyPct: 20,
      latencyFloorMs: 100,
    });
    expect(() => resolveTolerances({ latencyPct: -1 }, 'certify.json tolerances')).toThrow(
      'certify.json tolerances.latencyPct: expected a number >= 0, got -1',
    );
    expect(() => resolveTolerances({ throughputPct: 150 })).toThrow(/tolerances.throughputPct: .*<= 100/);
    expect(() => resolveTolerances({ latency: 5 })).toThrow(/tolerances.latency: unknown tolerance/);
    expect(() => resolveTolerances({ latencyPct: '20' })).toThrow(/tolerances.latencyPct: expected a number/);
    expect(() => resolveTolerances([1])).toThrow(/tolerances: expected an object/);
  });
});
