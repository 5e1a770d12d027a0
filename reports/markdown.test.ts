import { describe, expect, it } from 'vitest';
import { type RunResult, summaryText } from '../harness/runner/result.ts';
import { FIXTURES, fixture, hasControlChars, NASTY } from './fixtures.ts';
import { reportInputFor } from './input.ts';
import { markdownReport, mdCode, mdText } from './markdown.ts';

describe('markdownReport', () => {
  it.each(Object.keys(FIXTURES) as (keyof typeof FIXTURES)[])('%s result matches its snapshot', async (kind) => {
    await expect(markdownReport(reportInputFor(fixture(kind)))).toMatchFileSnapshot(`./__snapshots__/${kind}.md`);
  });

  it('several runs: overall verdict is the worst, a summary table, one section per run, extra sections last', async () => {
    const runs = [fixture('pass'), fixture('sloBreach'), fixture('fail')];
    const md = markdownReport({
      title: 'certify',
      runs,
      sections: [{ title: 'Baseline comparison', markdown: '| metric | baseline | candidate |\n| --- | --- | --- |' }],
    });
    expect(md).toContain('**Verdict: FAIL**');
    expect(md).toMatch(/\| scenario \| verdict \|.*\n\| --- /);
    expect(md.match(/^## .*\(exit \d\)$/gm)).toHaveLength(3);
    expect(md.indexOf('## Baseline comparison')).toBeGreaterThan(md.lastIndexOf('## copy-kill'));
    await expect(md).toMatchFileSnapshot('./__snapshots__/several-runs.md');
  });

  it('shows the replay command only for a failing run, and caps examples at 5 with the path of the full list', () => {
    const fail = fixture('fail');
    const md = markdownReport(reportInputFor(fail));
    expect(md).toContain(`\`\`\`sh\n${fail.replay}\n\`\`\``);
    expect(md).toContain(`- lost: ${fail.counts.lost} (first 5): `);
    expect(md).toContain(`\`${fail.files.anomalies}\``);
    expect(markdownReport(reportInputFor(fixture('pass')))).not.toContain('Replay');
  });

  it('hostile text cannot break a table row or inject HTML', () => {
    const r = structuredClone(fixture('fail')) as RunResult;
    r.checkers['exactly-once'] = { valid: false, anomalyTypes: ['lost'], reason: `a | b\nc <img src=x>` };
    r.anomalies = { ...r.anomalies, lost: [NASTY] };
    const md = markdownReport(reportInputFor(r));
    const row = md.split('\n').find((l) => l.startsWith('| exactly-once'))!;
    expect(row).toBe(
      '| exactly-once (nothing lost, nothing duplicated, nothing unexpected) | FAILED | lost | a \\| b c &lt;img src=x> |',
    );
    expect(md).not.toContain('<img');
    // Raw text only inside code spans (shown literally); outside them no markup survives.
    const example = md.split('\n').find((l) => l.startsWith('- lost:'))!;
    expect(example).toBe(
      `- lost: 171 (first 1): \`\`<&"'> ]]> </script><script>x</script> \uFFFD\uFFFD\uFFFD \\| \`code\` \uFFFD -- <!-- end\`\``,
    );
    expect(md.replace(example, '')).not.toContain('<script');
    expect(hasControlChars(md)).toBe(false);
  });

  it('a lake_latency threshold (judged over the lake) is in the SLO table and the terminal summary with its value', () => {
    const r = structuredClone(fixture('pass')) as RunResult;
    const breach = {
      metric: 'lake_latency',
      expression: 'p(95)<1500ms',
      path: 'slo.lake_latency[0]',
      ok: false,
      observed: 8560.6,
      limit: 1500,
      unit: 'ms',
    } as const;
    r.verdict = 'slo-breach';
    r.exitCode = 2;
    r.checkers['lake:lake-slo'] = { valid: false, anomalyTypes: ['slo-breach'] };
    const lakeSlo = { checker: 'lake-slo', valid: false, anomalyTypes: ['slo-breach' as const], thresholds: [breach] };
    r.details = { ...r.details!, results: { ...r.details!.results, 'lake:lake-slo': lakeSlo } };
    const md = markdownReport(reportInputFor(r));
    expect(md).toContain('| lake_latency | `p(95)<1500ms` | 8561 ms | 1500 ms | BREACHED |');
    expect(md).toContain('| lake:lake-slo (every lake_latency threshold met) | FAILED | slo-breach | - |');
    expect(summaryText(r)).toContain('breached lake_latency p(95)<1500ms: observed 8561 ms, limit 1500 ms');
    // Thresholds that held are in the table, not in the terminal's breached lines.
    expect(summaryText(fixture('pass'))).not.toContain('breached');
  });

  it('mdCode survives backticks; mdText keeps plain text readable', () => {
    expect(mdCode('a`b')).toBe('``a`b``');
    expect(mdCode('`x`')).toBe('`` `x` ``');
    expect(mdText('sut->kafka & co')).toBe('sut->kafka & co');
    expect(mdText('&amp; <b>')).toBe('&amp;amp; &lt;b>');
  });
});
