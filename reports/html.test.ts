import { describe, expect, it } from 'vitest';
import type { RunResult } from '../harness/runner/result.ts';
import { FIXTURES, fixture, hasControlChars, NASTY } from './fixtures.ts';
import { htmlReport } from './html.ts';
import { reportInputFor } from './input.ts';
import { jsonForScript } from './xml.ts';

function dataBlock(html: string): { runs: { name: string; faults: { label: string }[] }[] } {
  const m = /<script type="application\/json" id="streamproof-data">([\s\S]*?)<\/script>/.exec(html);
  expect(m).not.toBeNull();
  return JSON.parse(m![1]!);
}

describe('htmlReport', () => {
  it.each(Object.keys(FIXTURES) as (keyof typeof FIXTURES)[])('%s: self-contained, no external reference', (kind) => {
    const html = htmlReport(reportInputFor(fixture(kind)));
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none';`);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|<link\b/i);
    expect(html.match(/<script\b/g)).toHaveLength(3);
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    expect(html).toContain('uPlot'); // the library is inlined
  });

  it('one fault row with data attributes per fault, and the same windows in the chart data', () => {
    const r = fixture('pass');
    const html = htmlReport(reportInputFor(r));
    const rows = [
      ...html.matchAll(
        /<tr class="fault-window" data-fault-index="(\d+)" data-fault-id="([^"]*)" data-fault="([^"]*)"/g,
      ),
    ];
    expect(rows.map((m) => m[3])).toEqual(r.faults.map((f) => f.fault));
    expect(dataBlock(html).runs[0]!.faults.map((f) => f.label)).toEqual(
      r.faults.map((f, i) => `${i + 1}: ${f.fault}${f.target ? ` on ${f.target}` : ''}`),
    );
  });

  it('a schema upgrade on the time axis and in the fault table: its versions, a refusal said so', () => {
    const r = structuredClone(fixture('pass')) as RunResult;
    const at = r.faults[0]!.startedAt;
    r.faults = [
      {
        faultId: 'up',
        fault: 'schema-upgrade',
        target: 'load',
        startedAt: at,
        healedAt: at,
        detail: { summary: 'v2 -> v3: schema id 12, compatible under BACKWARD' },
      },
      {
        faultId: 'bad',
        fault: 'schema-upgrade',
        target: 'load',
        startedAt: at,
        healedAt: at,
        detail: { summary: 'v2 -> e.avsc (as v3) refused by the registry under BACKWARD (the load kept v2): x' },
      },
    ];
    const html = htmlReport(reportInputFor(r));
    const faults = (dataBlock(html).runs[0]!.faults as { label: string; short: string }[]).map((f) => [
      f.short,
      f.label,
    ]);
    expect(faults).toEqual([
      ['1 schema-upgrade v2 -> v3', '1: schema-upgrade on load (v2 -> v3: schema id 12, compatible under BACKWARD)'],
      [
        '2 schema-upgrade v2 -> e.avsc refused',
        '2: schema-upgrade on load (v2 -> e.avsc (as v3) refused by the registry under BACKWARD (the load kept v2): x)',
      ],
    ]);
    expect(html).toContain('<small>v2 -&gt; v3: schema id 12, compatible under BACKWARD</small>');
  });

  it('escapes hostile text everywhere and the embedded JSON cannot end its script block', () => {
    const r = structuredClone(fixture('fail')) as RunResult;
    r.name = NASTY;
    r.replay = NASTY;
    r.notes = [NASTY];
    r.environment = { [NASTY]: NASTY };
    r.anomalies = { ...r.anomalies, lost: [NASTY] };
    r.faults = r.faults.map((f) => ({ ...f, target: NASTY }));
    const html = htmlReport({ ...reportInputFor(r), title: NASTY });
    // Only the report's own three scripts; no injected tag, comment or CDATA end.
    expect(html.match(/<script\b/g)).toHaveLength(3);
    expect(html.match(/<\/script/gi)).toHaveLength(3);
    expect(html).not.toContain('<!-- end');
    expect(hasControlChars(html)).toBe(false);
    expect(html).toContain('&lt;&amp;&quot;&#39;&gt; ]]&gt; &lt;/script&gt;&lt;script&gt;x&lt;/script&gt;');
    // The data block reads back exactly what went in.
    const data = dataBlock(html);
    expect(data.runs[0]!.name).toBe(NASTY);
    expect(data.runs[0]!.faults[0]!.label).toContain(NASTY);
  });

  it('jsonForScript round-trips and never emits < or >', () => {
    const v = { s: NASTY, t: '\u2028\u2029' };
    const text = jsonForScript(v);
    expect(text).not.toMatch(/[<>]/);
    expect(JSON.parse(text)).toEqual(v);
  });

  it('several runs: a summary table and one section per run; extra sections appended', () => {
    const html = htmlReport({
      title: 'certify',
      runs: [fixture('pass'), fixture('fail')],
      sections: [{ title: 'Baseline comparison', html: '<table class="baseline"></table>' }],
    });
    expect(html).toContain('<table class="summary">');
    expect(html.match(/<section class="run"/g)).toHaveLength(2);
    expect(html).toMatch(/<header>[\s\S]*data-verdict="fail"/);
    expect(html.indexOf('<table class="baseline">')).toBeGreaterThan(html.lastIndexOf('<section class="run"'));
  });
});
