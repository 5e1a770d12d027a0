import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import type { RunResult } from '../harness/runner/result.ts';
import { FIXTURES, fixture, hasControlChars, NASTY } from './fixtures.ts';
import { reportInputFor } from './input.ts';
import { junitReport } from './junit.ts';

const XSD = readFileSync(fileURLToPath(new URL('../test/fixtures/junit/junit.xsd', import.meta.url)), 'utf8');

async function validate(xml: string) {
  const r = await validateXML({
    xml: [{ fileName: 'report.xml', contents: xml }],
    schema: [{ fileName: 'junit.xsd', contents: XSD }],
  });
  return { valid: r.valid, errors: r.errors.map((e) => e.rawMessage) };
}

function testcase(xml: string, name: string): string {
  const at = xml.indexOf(`name="${name}"`);
  expect(at, `test case ${name}`).toBeGreaterThan(0);
  const end = xml.indexOf('</testcase>', at);
  const selfClosed = xml.indexOf('/>', at);
  return xml.slice(at, end < 0 || selfClosed < end ? selfClosed : end);
}

describe('junitReport', () => {
  it.each(Object.keys(FIXTURES) as (keyof typeof FIXTURES)[])(
    '%s result validates against the JUnit schema',
    async (kind) => {
      const xml = junitReport(reportInputFor(fixture(kind)));
      expect(await validate(xml)).toEqual({ valid: true, errors: [] });
    },
  );

  it('the schema is not a rubber stamp: it rejects a report with a bad count or a misplaced element', async () => {
    const xml = junitReport(reportInputFor(fixture('pass')));
    expect((await validate(xml.replace(/tests="\d+"/, 'tests="NaN"'))).valid).toBe(false);
    expect(
      (await validate(xml.replace('<testsuites', '<testsuitez').replace('</testsuites>', '</testsuitez>'))).valid,
    ).toBe(false);
    const misplaced = xml.replace(/(<testcase [^>]*)\/>/, '$1><failure message="x"/><skipped/></testcase>');
    expect((await validate(misplaced)).valid).toBe(false);
  });

  it('pass: one passing test case per checker and per SLO threshold, counts agree', () => {
    const r = fixture('pass');
    const xml = junitReport(reportInputFor(r));
    const names = [...xml.matchAll(/<testcase [^>]*name="([^"]*)"/g)].map((m) => m[1]);
    expect(names).toEqual(['exactly-once', 'order', 'schema', 'latency', 'e2e_latency p(99)&lt;30s']);
    expect(xml).toMatch(/<testsuite name="chaos-matrix" tests="5" failures="0" errors="0"/);
    expect(xml).not.toMatch(/<failure|<error/);
    expect(xml).toContain(`replay: ${r.replay}`);
  });

  it('fail: the violated invariant fails with the observed count against its limit and examples', () => {
    const r = fixture('fail');
    const xml = junitReport(reportInputFor(r));
    const eo = testcase(xml, 'exactly-once');
    expect(eo).toContain(`<failure message="exactly-once violated: lost: observed ${r.counts.lost}, limit 0"`);
    expect(eo).toContain(String(r.anomalies.lost[0]));
    expect(eo).toContain(`full lists: ${r.files.anomalies}`);
    expect(testcase(xml, 'order')).not.toContain('<failure');
    // The SLO breached too: its own failure, observed vs limit.
    expect(testcase(xml, 'e2e_latency p(95)&lt;2s')).toMatch(
      /<failure message="SLO breached: observed [\d.]+ s, limit p\(95\)&lt;2s/,
    );
    expect(xml).toMatch(/failures="2" errors="0"/);
    expect(xml).toContain('replay: streamproof run scenarios/copy-kill.json --sut');
  });

  it('slo-breach: only the threshold fails', () => {
    const xml = junitReport(reportInputFor(fixture('sloBreach')));
    expect(xml.match(/<failure /g)).toHaveLength(1);
    expect(testcase(xml, 'e2e_latency p(95)&lt;2s')).toContain('type="slo-breach"');
  });

  it('unknown: a harness failure is an error, never a pass or a skip', async () => {
    const r = fixture('unknown');
    const xml = junitReport(reportInputFor(r));
    expect(testcase(xml, 'harness')).toContain('<error message="harness error [STACK_START_FAILED]');
    expect(xml).toMatch(/tests="1" failures="0" errors="1"/);
    expect(xml).not.toContain('<skipped');
    expect(await validate(xml)).toEqual({ valid: true, errors: [] });
  });

  it('a checker or threshold that is unknown is an <error>', async () => {
    const r = structuredClone(fixture('pass')) as RunResult;
    r.verdict = 'unknown';
    r.checkers.order = { valid: 'unknown', anomalyTypes: [], reason: 'drain incomplete' };
    const slo = r.slo as { thresholds: { ok: unknown; observed: unknown }[] };
    slo.thresholds[0]!.ok = 'unknown';
    slo.thresholds[0]!.observed = null;
    const xml = junitReport(reportInputFor(r));
    expect(testcase(xml, 'order')).toContain(
      '<error message="order could not decide (unknown): drain incomplete" type="unknown"',
    );
    expect(testcase(xml, 'e2e_latency p(99)&lt;30s')).toContain('<error message="SLO unknown');
    expect(xml).toMatch(/errors="2"/);
    expect(await validate(xml)).toEqual({ valid: true, errors: [] });
  });

  it('escapes hostile text in names, reasons, examples and output, and stays valid', async () => {
    const r = structuredClone(fixture('fail')) as RunResult;
    r.name = NASTY;
    r.replay = `streamproof run '${NASTY}'`;
    r.checkers['exactly-once'] = { valid: false, anomalyTypes: ['lost'], reason: NASTY };
    r.anomalies = { ...r.anomalies, lost: [NASTY, ...r.anomalies.lost] };
    r.notes = [NASTY];
    const xml = junitReport({
      ...reportInputFor(r),
      extraTestcases: [{ suite: NASTY, name: NASTY, failure: NASTY, time: 1.5 }],
    });
    expect(await validate(xml)).toEqual({ valid: true, errors: [] });
    expect(hasControlChars(xml)).toBe(false);
    expect(xml).not.toContain(']]>');
    expect(xml).not.toContain('<script>');
    expect(xml).toContain('&lt;&amp;&quot;&apos;&gt; ]]&gt;'); // in attributes
    expect(xml).toContain(`&lt;&amp;"'&gt; ]]&gt;`); // in text
  });

  it('appends extra test cases (e.g. certify regressions) as their own suites', async () => {
    const xml = junitReport({
      ...reportInputFor(fixture('pass')),
      extraTestcases: [
        { suite: 'baseline', name: 'chaos-matrix throughput', failure: 'observed 400/s, baseline 500/s (-20%)' },
        { suite: 'baseline', name: 'chaos-matrix new anomalies' },
      ],
    });
    expect(xml).toMatch(/<testsuite name="baseline" tests="2" failures="1" errors="0"/);
    expect(xml).toMatch(/<testsuites [^>]*tests="7" failures="1" errors="0"/);
    expect(await validate(xml)).toEqual({ valid: true, errors: [] });
  });
});
