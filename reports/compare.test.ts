import { describe, expect, it } from 'vitest';
import { type Comparison, compareSuites } from '../harness/certify/compare.ts';
import { comparisonHtml, comparisonMarkdown } from './compare.ts';
import { comparableResult as result } from './fixtures.ts';

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
