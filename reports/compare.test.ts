import { describe, expect, it } from 'vitest';
import {
  activeRate,
  type ComparableResult,
  type Comparison,
  compareRuns,
  compareSuites,
  comparisonHtml,
  comparisonMarkdown,
  DEFAULT_TOLERANCES,
  resolveTolerances,
} from './compare.ts';

type Over = {
  name?: string;
  verdict?: ComparableResult['verdict'];
  seed?: number;
  counts?: Partial<ComparableResult['counts']>;
  checkers?: Record<string, boolean | 'unknown'>;
  p50?: number | null;
  p95?: number | null;
  p99?: number | null;
  series?: { acked: number; observed: number }[];
  acked?: number | null;
  observed?: number | null;
};

/** A passing result of the reference pipeline's shape; `o` overrides what a test is about. */
function result(o: Over = {}): ComparableResult {
  const checkers = o.checkers ?? { attribution: true, order: true, schema: true, latency: true, slo: true };
  return {
    name: o.name ?? 'steady',
    verdict: o.verdict ?? 'pass',
    seed: o.seed ?? 11,
    counts: {
      offered: 3000,
      acked: 3000,
      failed: 0,
      unknown: 0,
      observed: 7000,
      lost: 0,
      duplicated: 0,
      unexpected: 0,
      reordered: 0,
      undecodable: 0,
      unknownSeen: 0,
      unknownNotSeen: 0,
      ...o.counts,
    },
    checkers: Object.fromEntries(
      Object.entries(checkers).map(([k, v]) => [k, { valid: v, anomalyTypes: v === false ? ['duplicated'] : [] }]),
    ),
    latency: {
      e2e: {
        count: 100,
        minMs: 10,
        meanMs: 200,
        p50Ms: o.p50 === undefined ? 150 : o.p50,
        p95Ms: o.p95 === undefined ? 400 : o.p95,
        p99Ms: o.p99 === undefined ? 600 : o.p99,
        p999Ms: 700,
        maxMs: 800,
      } as NonNullable<ComparableResult['latency']['e2e']>,
      ack: null,
      series: o.series ?? [],
      recovery: [],
    },
    throughput: {
      seconds: 10,
      offeredPerSec: 300,
      ackedPerSec: o.acked === undefined ? 300 : o.acked,
      observedPerSec: o.observed === undefined ? 700 : o.observed,
    },
  };
}

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

describe('formatting', () => {
  const c: Comparison = compareSuites(
    new Map([['steady', result()]]),
    new Map([
      [
        'steady',
        result({
          verdict: 'fail',
          counts: { duplicated: 12 },
          checkers: { attribution: false, order: true, schema: true, latency: true, slo: true },
          p95: 410.5,
        }),
      ],
    ]),
  );

  it('Markdown: the regressions first, then the side-by-side table', () => {
    expect(comparisonMarkdown(c)).toMatchInlineSnapshot(`
      "**2 regression(s) against the baseline:**
      - steady: anomalies.duplicated 0 → 12 (any rise)
      - steady: checker.attribution true → false (valid → invalid)

      Tolerances: throughput drop 10%, latency rise 20% and 25 ms; any new anomaly or newly invalid checker is a regression.

      #### steady
      | metric | baseline | candidate | change | verdict |
      | --- | ---: | ---: | ---: | --- |
      | verdict | pass | fail | changed |  |
      | anomalies.lost | 0 | 0 | 0 | ok |
      | anomalies.duplicated | 0 | 12 | +12 | **REGRESSION** (any rise) |
      | anomalies.unexpected | 0 | 0 | 0 | ok |
      | anomalies.reordered | 0 | 0 | 0 | ok |
      | anomalies.undecodable | 0 | 0 | 0 | ok |
      | checker.attribution | true | false | changed | **REGRESSION** (valid → invalid) |
      | checker.order | true | true |  | ok |
      | checker.schema | true | true |  | ok |
      | checker.latency | true | true |  | ok |
      | checker.slo | true | true |  | ok |
      | throughput.acked_per_s | 300 | 300 | 0 | ok |
      | throughput.observed_per_s | 700 | 700 | 0 | ok |
      | latency.e2e_p50_ms | 150 | 150 | 0 |  |
      | latency.e2e_p95_ms | 400 | 410.5 | +10.5 (+2.6%) | ok |
      | latency.e2e_p99_ms | 600 | 600 | 0 | ok |"
    `);
  });

  it('HTML: one row per metric carrying its verdict, text escaped', () => {
    const html = comparisonHtml(c);
    expect(html).toContain('<tr data-metric="anomalies.duplicated" data-verdict="regression" class="regression">');
    expect(html).toContain('<tr data-metric="latency.e2e_p95_ms" data-verdict="ok">');
    expect((html.match(/data-verdict="regression"/g) ?? []).length).toBe(2);
    expect(html).toContain('steady: checker.attribution true → false (valid → invalid)');
  });
});
