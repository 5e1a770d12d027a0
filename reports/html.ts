/**
 * HTML report: one self-contained file that works offline. uPlot (script and stylesheet) and the report's own code
 * (html-client.js) are read from disk at render time and inlined; a Content-Security-Policy with `default-src 'none'`
 * forbids every network request. Per run: verdict, environment (versions, seed, replay command), charts over time
 * (offered / acked / observed throughput, end-to-end latency p50 / p95 / p99, consumer lag) with every fault window
 * shaded and labelled, the fault windows as a table (rows carry data-fault-* attributes), per-fault recovery, SLO
 * and checker tables, anomaly tables with a few examples and a relative link to the full lists. Several runs
 * (certify) get a summary table on top. Chart data is embedded as JSON in a script block.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { RunResult } from '../harness/runner/result.ts';
import {
  anomalyViews,
  CHECKER_LABEL,
  COUNT_KEYS,
  checkerStatus,
  dlqText,
  drainText,
  errorWhere,
  type FaultRow,
  faultRows,
  fmtMs,
  fmtNum,
  fmtValue,
  lagView,
  lakeText,
  MAX_EXAMPLES,
  noThresholdsText,
  recoveryText,
  series,
  thresholdStatus,
  thresholds,
  timeZero,
  verdictText,
} from './facts.ts';
import { fileLink, type ReportInput, verdictOfInput } from './input.ts';
import { htmlEscape as h, jsonForScript } from './xml.ts';

const require = createRequire(import.meta.url);

let assets: { uplotJs: string; uplotCss: string; client: string } | undefined;

function loadAssets() {
  assets ??= {
    uplotJs: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    uplotCss: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    client: readFileSync(new URL('./html-client.js', import.meta.url), 'utf8'),
  };
  return assets;
}

/** Inline script text must not contain `</script`. */
function inlineScript(code: string): string {
  return code.replace(/<\/script/gi, '<\\/script');
}

const CSS = `
:root { --fg: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #ffffff; --soft: #f9fafb;
  --pass: #15803d; --fail: #b91c1c; --slo: #b45309; --unknown: #4b5563; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header, main { max-width: 1180px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; padding-bottom: 8px; border-bottom: 1px solid var(--line); }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 19px; margin: 36px 0 8px; padding-top: 12px; border-top: 2px solid var(--line); }
h3 { font-size: 15px; margin: 22px 0 6px; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 4px; color: #fff; font-weight: 600; letter-spacing: .02em; }
.verdict-pass { background: var(--pass); } .verdict-fail { background: var(--fail); }
.verdict-slo-breach { background: var(--slo); } .verdict-unknown { background: var(--unknown); }
.explain { color: var(--muted); margin: 6px 0 12px; }
table { border-collapse: collapse; margin: 6px 0 12px; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num { text-align: right; }
.ok { color: var(--pass); font-weight: 600; } .bad { color: var(--fail); font-weight: 600; } .unk { color: var(--unknown); font-weight: 600; }
dl.env { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.env dt { color: var(--muted); } dl.env dd { margin: 0; }
pre { background: var(--soft); border: 1px solid var(--line); padding: 8px 10px; overflow-x: auto; margin: 4px 0; }
code { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.chart { margin: 4px 0 18px; min-height: 230px; }
.chart-title { font-weight: 600; margin: 14px 0 0; }
.chart-note { color: var(--muted); font-size: 12.5px; }
.fault-swatch { display: inline-block; width: 10px; height: 10px; background: rgba(220,38,38,.25); border-left: 2px solid rgba(220,38,38,.7); margin-right: 4px; }
ul.examples { margin: 0; padding-left: 18px; } ul.examples code { word-break: break-all; }
.error { border-left: 4px solid var(--fail); background: #fef2f2; padding: 8px 12px; }
footer { max-width: 1180px; margin: 40px auto 24px; padding: 0 24px; color: var(--muted); font-size: 12px; }
`;

function verdictBadge(v: RunResult['verdict']): string {
  return `<span class="verdict verdict-${h(v)}" data-verdict="${h(v)}">${h(v.toUpperCase())}</span>`;
}

function statusCell(s: 'ok' | 'FAILED' | 'BREACHED' | 'unknown'): string {
  const cls = s === 'ok' ? 'ok' : s === 'unknown' ? 'unk' : 'bad';
  return `<td class="${cls}">${h(s)}</td>`;
}

/** On the time axis, a schema upgrade says its versions (and a refusal): `3 schema-upgrade v2 -> v3`. */
function shortDetail(f: FaultRow): string {
  const m = f.detail === undefined ? null : /^(v\d+ -> [^\s:]+)/.exec(f.detail);
  return m ? ` ${m[1]}${/ refused by the registry/.test(f.detail!) ? ' refused' : ''}` : '';
}

function faultLabel(f: FaultRow): string {
  return `${f.index + 1}: ${f.fault}${f.target ? ` on ${f.target}` : ''}${f.detail ? ` (${f.detail})` : ''}`;
}

function chartData(run: RunResult, index: number) {
  const zero = timeZero(run) / 1000;
  const rel = (second: number) => Math.round((second - zero) * 1000) / 1000;
  const s = series(run);
  const lag = lagView(run);
  const lagT = lag ? lag.series.map((p) => rel(p.second)) : [];
  // One time axis for the run's three charts, so a moment lines up across them.
  const ts = [...s.map((p) => rel(p.second)), ...lagT];
  const x = ts.length ? [Math.min(0, ...ts), Math.max(...ts)] : [0, 1];
  return {
    index,
    name: run.name,
    outputLabel: outputLabel(run),
    x,
    series: {
      t: s.map((p) => rel(p.second)),
      offered: s.map((p) => p.offered),
      acked: s.map((p) => p.acked),
      observed: s.map((p) => p.observed),
      p50: s.map((p) => p.e2eP50Ms),
      p95: s.map((p) => p.e2eP95Ms),
      p99: s.map((p) => p.e2eP99Ms),
    },
    lag: lag && lag.series.length > 0 ? { label: lag.label, t: lagT, lag: lag.series.map((p) => p.lag) } : null,
    faults: faultRows(run).map((f) => ({
      start: f.startSec,
      end: f.healSec,
      short: `${f.index + 1} ${f.fault}${shortDetail(f)}`,
      label: faultLabel(f),
    })),
  };
}

function runSection(run: RunResult, index: number, input: ReportInput): string {
  const out: string[] = [];
  const faults = faultRows(run);
  out.push(`<section class="run" id="run-${index}" data-run="${index}" data-verdict="${h(run.verdict)}">`);
  out.push(`<h2>${h(run.name)} ${verdictBadge(run.verdict)} <small>exit ${run.exitCode}</small></h2>`);
  out.push(`<p class="explain">${h(verdictText(run.verdict))}.</p>`);
  if (run.error) {
    out.push(
      `<p class="error">Harness error <code>${h(run.error.code)}</code>${h(errorWhere(run))}: ${h(run.error.message)}</p>`,
    );
  }

  out.push('<h3>Environment</h3><dl class="env">');
  for (const [k, v] of Object.entries(run.environment ?? {})) out.push(`<dt>${h(k)}</dt><dd>${h(v)}</dd>`);
  out.push(`<dt>seed</dt><dd><code>${h(run.seed)}</code></dd>`);
  out.push(`<dt>started</dt><dd>${h(run.startedAt)}</dd>`);
  out.push(`<dt>duration</dt><dd>${h(fmtNum(run.durationSeconds, 1))} s</dd>`);
  if (run.scenario?.description) out.push(`<dt>scenario</dt><dd>${h(run.scenario.description)}</dd>`);
  out.push('</dl>');
  out.push(
    `<div>Replay${run.exitCode !== 0 ? ' (this run failed)' : ''}:</div><pre class="replay"><code>${h(run.replay)}</code></pre>`,
  );

  out.push('<h3>Over time</h3>');
  out.push(
    run.faults.length > 0
      ? `<p class="chart-note"><span class="fault-swatch"></span>shaded: fault windows, numbered as in the fault table; time in seconds since the load started.</p>`
      : '<p class="chart-note">No faults were injected; time in seconds since the load started.</p>',
  );
  out.push(`<div class="chart-title">Throughput per second: offered, acked, ${h(outputLabel(run))}</div>`);
  out.push(`<div class="chart" data-chart="throughput" data-run="${index}"></div>`);
  out.push('<div class="chart-title">End-to-end latency per second: p50, p95, p99</div>');
  out.push(`<div class="chart" data-chart="latency" data-run="${index}"></div>`);
  const lag = lagView(run);
  out.push(`<div class="chart-title">Consumer lag${lag?.group ? ` of group <code>${h(lag.group)}</code>` : ''}</div>`);
  if (lag && lag.series.length > 0) {
    out.push(`<div class="chart-note">${h(lag.label)}</div>`);
    out.push(`<div class="chart" data-chart="lag" data-run="${index}" data-lag-source="${h(lag.source)}"></div>`);
  } else {
    out.push('<p class="chart-note">No lag recorded for this run.</p>');
  }

  out.push('<h3>Faults and recovery</h3>');
  if (faults.length === 0) {
    out.push('<p>No faults were injected.</p>');
  } else {
    out.push(
      '<table class="faults"><thead><tr><th>#</th><th>fault</th><th>target</th><th>start (s)</th><th>healed (s)</th><th>window</th><th>recovery</th></tr></thead><tbody>',
    );
    for (const f of faults) {
      const dur = f.healSec === null ? 'not healed' : `${fmtNum(f.healSec - f.startSec, 1)} s`;
      out.push(
        `<tr class="fault-window" data-fault-index="${f.index}" data-fault-id="${h(f.faultId)}" data-fault="${h(f.fault)}" data-target="${h(f.target)}" data-label="${h(faultLabel(f))}" data-start-sec="${f.startSec}" data-heal-sec="${f.healSec ?? ''}" data-recovery="${h(f.recovery?.status ?? 'not measured')}">` +
          `<td class="num">${f.index + 1}</td><td>${h(f.fault)}${f.detail ? `<br><small>${h(f.detail)}</small>` : ''}</td><td>${h(f.target || '-')}</td>` +
          `<td class="num">${fmtNum(f.startSec, 1)}</td><td class="num">${f.healSec === null ? 'not healed' : fmtNum(f.healSec, 1)}</td>` +
          `<td class="num">${h(dur)}</td><td>${h(recoveryText(f.recovery))}</td></tr>`,
      );
    }
    out.push('</tbody></table>');
  }

  const ts = thresholds(run);
  out.push('<h3>SLOs</h3>');
  if (ts.length === 0) out.push(`<p>${h(noThresholdsText(run))}</p>`);
  else {
    out.push(
      '<table class="slo"><thead><tr><th>metric</th><th>threshold</th><th>observed</th><th>limit</th><th>ok</th></tr></thead><tbody>',
    );
    for (const t of ts) {
      out.push(
        `<tr><td>${h(t.metric)}</td><td><code>${h(t.expression)}</code></td><td class="num">${h(fmtValue(t.observed, t.unit, t.limit))}</td><td class="num">${h(fmtValue(t.limit, t.unit, t.observed))}</td>${statusCell(thresholdStatus(t.ok))}</tr>`,
      );
    }
    out.push('</tbody></table>');
  }

  out.push('<h3>Checkers</h3>');
  const checkers = Object.entries(run.checkers ?? {});
  if (checkers.length === 0) out.push('<p>No checker ran (the run did not get that far); the verdict is unknown.</p>');
  else {
    out.push(
      '<table class="checkers"><thead><tr><th>checker</th><th>result</th><th>anomalies</th><th>reason</th></tr></thead><tbody>',
    );
    for (const [name, c] of checkers) {
      out.push(
        `<tr data-checker="${h(name)}"><td>${h(CHECKER_LABEL[name] ?? name)}</td>${statusCell(checkerStatus(c.valid))}<td>${h(c.anomalyTypes.join(', ') || '-')}</td><td>${h(c.reason ?? '-')}</td></tr>`,
      );
    }
    out.push('</tbody></table>');
  }

  const c = run.counts;
  out.push('<h3>Counts</h3><table class="counts"><thead><tr>');
  out.push(COUNT_KEYS.map((k) => `<th>${k}</th>`).join(''));
  out.push('</tr></thead><tbody><tr>');
  out.push(COUNT_KEYS.map((k) => `<td class="num">${fmtNum(c[k])}</td>`).join(''));
  out.push('</tr></tbody></table>');
  const drain = drainText(run);
  if (drain) out.push(`<p class="drain" data-drain-complete="${run.drain?.complete}">Drain: ${h(drain)}</p>`);
  const dlq = dlqText(run);
  if (dlq) out.push(`<p class="dlq">Dead-letter queue: ${h(dlq)}</p>`);
  const lake = lakeText(run);
  if (lake) out.push(`<p class="lake">Lake: ${h(lake)}</p>`);
  const e2e = run.latency?.e2e;
  if (e2e) {
    out.push(
      `<p>End-to-end latency over the run: p50 ${h(fmtMs(e2e.p50Ms))}, p95 ${h(fmtMs(e2e.p95Ms))}, p99 ${h(fmtMs(e2e.p99Ms))}, max ${h(fmtMs(e2e.maxMs))} (${fmtNum(e2e.count)} records).</p>`,
    );
  }

  const anomalies = anomalyViews(run);
  out.push('<h3>Anomalies</h3>');
  if (anomalies.length === 0) out.push('<p>None.</p>');
  else {
    const file = run.files?.anomalies;
    if (file) {
      const link = fileLink(file, input.baseDir);
      out.push(
        `<p>Up to ${MAX_EXAMPLES} examples per kind. Full lists: <a class="anomalies-file" href="${h(encodeURI(link))}">${h(link)}</a></p>`,
      );
    }
    out.push('<table class="anomalies"><thead><tr><th>kind</th><th>count</th><th>examples</th></tr></thead><tbody>');
    for (const a of anomalies) {
      const ex = a.examples.length
        ? `<ul class="examples">${a.examples.map((e) => `<li><code>${h(e)}</code></li>`).join('')}</ul>`
        : '-';
      out.push(
        `<tr data-anomaly="${h(a.kind)}"><td>${h(a.kind)}</td><td class="num">${fmtNum(a.count)}</td><td>${ex}</td></tr>`,
      );
    }
    out.push('</tbody></table>');
  }

  if (run.notes?.length) {
    out.push('<h3>Notes</h3><ul>');
    for (const n of run.notes) out.push(`<li>${h(n)}</li>`);
    out.push('</ul>');
  }
  out.push('</section>');
  return out.join('\n');
}

function summaryTable(runs: readonly RunResult[]): string {
  const rows = runs.map(
    (r, i) =>
      `<tr><td><a href="#run-${i}">${h(r.name)}</a></td><td>${verdictBadge(r.verdict)}</td><td class="num">${fmtNum(r.counts.offered)}</td><td class="num">${fmtNum(r.counts.observed)}</td><td class="num">${fmtNum(r.counts.lost)}</td><td class="num">${fmtNum(r.counts.duplicated)}</td><td class="num">${fmtNum(r.counts.reordered)}</td><td class="num">${h(fmtMs(r.latency?.e2e?.p95Ms))}</td><td class="num">${r.faults.length}</td></tr>`,
  );
  return `<table class="summary"><thead><tr><th>scenario</th><th>verdict</th><th>offered</th><th>observed</th><th>lost</th><th>duplicated</th><th>reordered</th><th>e2e p95</th><th>faults</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export function htmlReport(input: ReportInput): string {
  const a = loadAssets();
  const verdict = verdictOfInput(input);
  const data = { title: input.title, verdict, runs: input.runs.map((r, i) => chartData(r, i)) };
  const body: string[] = [];
  body.push(`<header><h1>streamproof: ${h(input.title)}</h1>`);
  body.push(`<p>${verdictBadge(verdict)} <span class="explain">${h(verdictText(verdict))}.</span></p></header>`);
  body.push('<main>');
  if (input.runs.length > 1) body.push(`<h2>Summary</h2>${summaryTable(input.runs)}`);
  if (input.runs.length === 0) body.push('<p>No runs.</p>');
  input.runs.forEach((r, i) => {
    body.push(runSection(r, i, input));
  });
  for (const s of input.sections ?? []) {
    body.push(
      `<section class="extra"><h2>${h(s.title)}</h2>${s.html ?? (s.markdown ? `<pre>${h(s.markdown)}</pre>` : '')}</section>`,
    );
  }
  body.push('</main>');
  body.push(
    '<footer>Written by streamproof from the stored result(s); charts drawn with uPlot, bundled into this file.</footer>',
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>streamproof: ${h(input.title)} (${h(verdict)})</title>
<style>${a.uplotCss.replace(/<\/style/gi, '<\\/style')}</style>
<style>${CSS}</style>
</head>
<body>
${body.join('\n')}
<script type="application/json" id="streamproof-data">${jsonForScript(data)}</script>
<script>${inlineScript(a.uplotJs)}</script>
<script>${inlineScript(a.client)}</script>
</body>
</html>
`;
}

/** What the output series counts: under the attribution contract, conversions (the first output record of each). */
function outputLabel(run: RunResult): string {
  return run.scenario?.sut?.contract === 'attribution' ? 'output (conversions attributed)' : 'output (observed)';
}
