/**
 * JUnit XML for CI servers: `<testsuites>` with one `<testsuite>` per run and one `<testcase>` per invariant
 * (each checker) and per SLO threshold. A violated invariant or breached threshold is a `<failure>` carrying the
 * observed value against its limit and a few examples; a checker or threshold that is `unknown` is an `<error>`
 * (the CI must not read it as passed or skipped); a harness failure is an `<error>` too. The suite's system-out
 * has the seed and the replay command. Caller test cases (e.g. certify's regressions) follow as their own suites.
 * The structure follows the Ant / Jenkins JUnit schema; test/fixtures/junit/junit.xsd checks it in the tests.
 */
import type { RunResult } from '../harness/runner/result.ts';
import { anomalyViews, faultRows, fmtMs, fmtNum, fmtValue, recoveryText, thresholds, verdictText } from './facts.ts';
import { fileLink, type ReportInput, verdictOfInput } from './input.ts';
import { xmlAttr, xmlText } from './xml.ts';

interface Case {
  classname: string;
  name: string;
  time: number;
  failure?: { message: string; type: string; body: string };
  error?: { message: string; type: string; body: string };
  out?: string;
}

const COUNT_OF: Readonly<Record<string, keyof RunResult['counts']>> = {
  lost: 'lost',
  duplicated: 'duplicated',
  unexpected: 'unexpected',
  reordered: 'reordered',
  undecodable: 'undecodable',
};

function secs(n: number | undefined): string {
  return Number.isFinite(n) && (n as number) >= 0 ? (n as number).toFixed(3) : '0.000';
}

/** ISO 8601 without zone, as the Ant schema wants it. */
function timestamp(iso: string | undefined): string | undefined {
  if (!iso) return undefined;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString().slice(0, 19);
}

function runCases(run: RunResult, input: ReportInput): Case[] {
  const classname = `streamproof.${run.name}`;
  const cases: Case[] = [];
  const examples = new Map(anomalyViews(run).map((a) => [a.kind, a]));
  const anomaliesFile = run.files?.anomalies ? fileLink(run.files.anomalies, input.baseDir) : undefined;
  const ts = thresholds(run);

  for (const [name, c] of Object.entries(run.checkers ?? {})) {
    if (name === 'slo' && ts.length > 0) continue; // one test case per threshold instead
    const kase: Case = { classname, name, time: 0 };
    if (c.valid === false) {
      const observed = c.anomalyTypes.map((t) => {
        const key = COUNT_OF[t];
        return key ? `${t}: observed ${fmtNum(run.counts[key])}, limit 0` : t;
      });
      const body = c.anomalyTypes.flatMap((t) => {
        const a = examples.get(t);
        if (!a || a.examples.length === 0) return [];
        return [`${t} (${fmtNum(a.count)}), first ${a.examples.length}:`, ...a.examples.map((e) => `  ${e}`)];
      });
      if (anomaliesFile) body.push(`full lists: ${anomaliesFile}`);
      kase.failure = {
        message: `${name} violated: ${observed.join('; ') || 'no anomaly named'}${c.reason ? ` (${c.reason})` : ''}`,
        type: c.anomalyTypes.join(',') || 'invalid',
        body: body.join('\n'),
      };
    } else if (c.valid !== true) {
      kase.error = {
        message: `${name} could not decide (unknown)${c.reason ? `: ${c.reason}` : ''}`,
        type: 'unknown',
        body: 'An unknown checker is not a pass: the run did not establish this invariant.',
      };
    } else if (name === 'latency' && run.latency?.e2e) {
      const l = run.latency.e2e;
      kase.out = `e2e latency p50 ${fmtMs(l.p50Ms)}, p95 ${fmtMs(l.p95Ms)}, p99 ${fmtMs(l.p99Ms)}, max ${fmtMs(l.maxMs)}`;
    }
    cases.push(kase);
  }

  for (const t of ts) {
    const kase: Case = { classname: `${classname}.slo`, name: `${t.metric} ${t.expression}`, time: 0 };
    const vs = `observed ${fmtValue(t.observed, t.unit, t.limit)}, limit ${t.expression} (${fmtValue(t.limit, t.unit, t.observed)})`;
    if (t.ok === false) kase.failure = { message: `SLO breached: ${vs}`, type: 'slo-breach', body: `${t.path}: ${vs}` };
    else if (t.ok !== true)
      kase.error = { message: `SLO unknown: ${t.metric} has no data`, type: 'unknown', body: `${t.path}: ${vs}` };
    else kase.out = vs;
    cases.push(kase);
  }

  if (run.error || cases.length === 0) {
    const message = run.error
      ? `harness error [${run.error.code}]: ${run.error.message}`
      : `no checker ran; verdict ${run.verdict}`;
    cases.push({
      classname,
      name: 'harness',
      time: 0,
      error: { message, type: run.error?.code ?? 'unknown', body: message },
    });
  }
  return cases;
}

function systemOut(run: RunResult): string {
  const lines = [
    `verdict: ${run.verdict} (exit ${run.exitCode}): ${verdictText(run.verdict)}`,
    `seed: ${run.seed}`,
    `replay: ${run.replay}`,
    `counts: offered ${run.counts.offered}, acked ${run.counts.acked}, observed ${run.counts.observed}`,
    ...faultRows(run).map(
      (f) =>
        `fault ${f.index + 1}: ${f.fault}${f.target ? ` on ${f.target}` : ''} at ${fmtNum(f.startSec, 1)} s: ${recoveryText(f.recovery)}`,
    ),
    ...(run.notes ?? []).map((n) => `note: ${n}`),
  ];
  if (run.files?.result) lines.push(`result: ${run.files.result}`);
  return lines.join('\n');
}

function caseXml(c: Case): string {
  const open = `    <testcase classname="${xmlAttr(c.classname)}" name="${xmlAttr(c.name)}" time="${secs(c.time)}"`;
  const inner: string[] = [];
  if (c.error)
    inner.push(
      `      <error message="${xmlAttr(c.error.message)}" type="${xmlAttr(c.error.type)}">${xmlText(c.error.body)}</error>`,
    );
  if (c.failure)
    inner.push(
      `      <failure message="${xmlAttr(c.failure.message)}" type="${xmlAttr(c.failure.type)}">${xmlText(c.failure.body)}</failure>`,
    );
  if (c.out) inner.push(`      <system-out>${xmlText(c.out)}</system-out>`);
  return inner.length === 0 ? `${open}/>` : `${open}>\n${inner.join('\n')}\n    </testcase>`;
}

function suiteXml(
  s: { name: string; time: number; timestamp?: string; properties?: [string, string][]; out?: string },
  cases: Case[],
  id: number,
): string {
  const failures = cases.filter((c) => c.failure).length;
  const errors = cases.filter((c) => c.error).length;
  const attrs = [
    `name="${xmlAttr(s.name)}"`,
    `tests="${cases.length}"`,
    `failures="${failures}"`,
    `errors="${errors}"`,
    `skipped="0"`,
    `time="${secs(s.time)}"`,
    ...(s.timestamp ? [`timestamp="${s.timestamp}"`] : []),
    `id="${id}"`,
  ];
  const lines = [`  <testsuite ${attrs.join(' ')}>`];
  if (s.properties?.length) {
    lines.push('    <properties>');
    for (const [k, v] of s.properties) lines.push(`      <property name="${xmlAttr(k)}" value="${xmlAttr(v)}"/>`);
    lines.push('    </properties>');
  }
  for (const c of cases) lines.push(caseXml(c));
  if (s.out !== undefined) lines.push(`    <system-out>${xmlText(s.out)}</system-out>`);
  lines.push('  </testsuite>');
  return lines.join('\n');
}

export function junitReport(input: ReportInput): string {
  const suites: { xml: string; tests: number; failures: number; errors: number; time: number }[] = [];
  let id = 0;
  for (const run of input.runs) {
    const cases = runCases(run, input);
    const properties: [string, string][] = [
      ['verdict', run.verdict],
      ['exitCode', String(run.exitCode)],
      ['seed', String(run.seed)],
      ['replay', run.replay],
      ...Object.entries(run.environment ?? {}).map(([k, v]): [string, string] => [`environment.${k}`, String(v)]),
    ];
    const xml = suiteXml(
      {
        name: run.name,
        time: run.durationSeconds,
        timestamp: timestamp(run.startedAt),
        properties,
        out: systemOut(run),
      },
      cases,
      id++,
    );
    suites.push(summary(xml, cases, run.durationSeconds));
  }
  const extra = new Map<string, Case[]>();
  for (const t of input.extraTestcases ?? []) {
    const list = extra.get(t.suite) ?? [];
    list.push({
      classname: `streamproof.${t.suite}`,
      name: t.name,
      time: t.time ?? 0,
      ...(t.failure !== undefined ? { failure: { message: t.failure, type: 'regression', body: t.failure } } : {}),
    });
    extra.set(t.suite, list);
  }
  for (const [suite, cases] of extra) {
    const time = cases.reduce((s, c) => s + c.time, 0);
    suites.push(summary(suiteXml({ name: suite, time }, cases, id++), cases, time));
  }
  const total = (k: 'tests' | 'failures' | 'errors' | 'time') => suites.reduce((s, x) => s + x[k], 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlAttr(`streamproof: ${input.title}: ${verdictOfInput(input)}`)}" tests="${total('tests')}" failures="${total('failures')}" errors="${total('errors')}" time="${secs(total('time'))}">`,
    ...suites.map((s) => s.xml),
    '</testsuites>',
    '',
  ].join('\n');
}

function summary(xml: string, cases: Case[], time: number) {
  return {
    xml,
    tests: cases.length,
    failures: cases.filter((c) => c.failure).length,
    errors: cases.filter((c) => c.error).length,
    time: Number.isFinite(time) ? time : 0,
  };
}
