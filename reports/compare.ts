/**
 * The baseline comparison as text: one line per regression, a Markdown section, an HTML fragment (the certification
 * report embeds them). The comparison itself (what a regression is) is harness/certify/compare.ts.
 */
import type { Comparison, ComparisonRow, RowVerdict, Value } from '../harness/certify/compare.ts';
import { mdText } from './markdown.ts';
import { htmlEscape } from './xml.ts';

function fmtValue(v: Value): string {
  if (v === null) return '-';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(1);
  return String(v);
}

function fmtChange(r: ComparisonRow): string {
  if (r.change === null) return r.baseline === r.candidate ? '' : 'changed';
  if (r.change === 0) return '0';
  const sign = r.change > 0 ? '+' : '';
  const abs = `${sign}${Number.isInteger(r.change) ? r.change : r.change.toFixed(1)}`;
  return r.changePct === null ? abs : `${abs} (${sign}${r.changePct.toFixed(1)}%)`;
}

const VERDICT_TEXT: Record<RowVerdict, string> = {
  ok: 'ok',
  regression: 'REGRESSION',
  improved: 'improved',
  unknown: 'unknown',
  info: '',
};

/** One line per regression, e.g. `steady: anomalies.duplicated 0 → 12 (any rise)`. */
export function regressionLines(c: Comparison): string[] {
  return c.regressions.map(
    (r) => `${r.scenario}: ${r.metric} ${fmtValue(r.baseline)} → ${fmtValue(r.candidate)} (${r.rule})`,
  );
}

/** The comparison as Markdown: a summary line, then one side-by-side table per scenario. */
export function comparisonMarkdown(c: Comparison): string {
  const t = c.tolerances;
  const lines: string[] = [];
  lines.push(
    c.regressions.length === 0
      ? '**No regression against the baseline.**'
      : `**${c.regressions.length} regression(s) against the baseline:**`,
  );
  for (const l of regressionLines(c)) lines.push(`- ${mdText(l)}`);
  lines.push(
    '',
    `Tolerances: throughput drop ${t.throughputPct}%, latency rise ${t.latencyPct}% and ${t.latencyFloorMs} ms; any new anomaly or newly invalid checker is a regression.`,
  );
  if (c.onlyInBaseline.length) lines.push(`Only in the baseline: ${c.onlyInBaseline.join(', ')}.`);
  if (c.onlyInCandidate.length) lines.push(`Only in the candidate: ${c.onlyInCandidate.join(', ')}.`);
  for (const s of c.scenarios) {
    lines.push('', `#### ${mdText(s.scenario)}${s.status === 'compared' ? '' : ` (${s.status})`}`);
    for (const n of s.notes) lines.push(`> ${mdText(n)}`);
    if (s.rows.length === 0) continue;
    if (s.notes.length) lines.push('');
    lines.push('| metric | baseline | candidate | change | verdict |', '| --- | ---: | ---: | ---: | --- |');
    for (const r of s.rows) {
      const v = VERDICT_TEXT[r.verdict];
      lines.push(
        `| ${r.metric} | ${mdText(fmtValue(r.baseline))} | ${mdText(fmtValue(r.candidate))} | ${fmtChange(r)} | ${r.verdict === 'regression' ? `**${v}** (${mdText(r.rule)})` : v} |`,
      );
    }
  }
  return lines.join('\n');
}

/** The comparison as an HTML fragment (tables with `data-metric` / `data-verdict` attributes for styling and tests). */
export function comparisonHtml(c: Comparison): string {
  const t = c.tolerances;
  const parts: string[] = [];
  parts.push(
    `<p class="comparison-summary">${
      c.regressions.length === 0
        ? '<strong>No regression against the baseline.</strong>'
        : `<strong>${c.regressions.length} regression(s) against the baseline.</strong>`
    }</p>`,
  );
  if (c.regressions.length) {
    parts.push(
      `<ul class="regressions">${regressionLines(c)
        .map((l) => `<li>${htmlEscape(l)}</li>`)
        .join('')}</ul>`,
    );
  }
  parts.push(
    `<p>Tolerances: throughput drop ${t.throughputPct}%, latency rise ${t.latencyPct}% and ${t.latencyFloorMs} ms; any new anomaly or newly invalid checker is a regression.</p>`,
  );
  if (c.onlyInBaseline.length) parts.push(`<p>Only in the baseline: ${htmlEscape(c.onlyInBaseline.join(', '))}.</p>`);
  if (c.onlyInCandidate.length)
    parts.push(`<p>Only in the candidate: ${htmlEscape(c.onlyInCandidate.join(', '))}.</p>`);
  for (const s of c.scenarios) {
    parts.push(
      `<h4>${htmlEscape(s.scenario)}${s.status === 'compared' ? '' : ` <small>(${htmlEscape(s.status)})</small>`}</h4>`,
      ...s.notes.map((n) => `<p class="note">${htmlEscape(n)}</p>`),
    );
    if (s.rows.length === 0) continue;
    const body = s.rows
      .map(
        (r) =>
          `<tr data-metric="${htmlEscape(r.metric)}" data-verdict="${r.verdict}"${r.verdict === 'regression' ? ' class="regression"' : ''}><td>${htmlEscape(r.metric)}</td><td class="num">${htmlEscape(fmtValue(r.baseline))}</td><td class="num">${htmlEscape(fmtValue(r.candidate))}</td><td class="num">${htmlEscape(fmtChange(r))}</td><td>${
            r.verdict === 'regression'
              ? `<strong>REGRESSION</strong> (${htmlEscape(r.rule)})`
              : htmlEscape(VERDICT_TEXT[r.verdict])
          }</td></tr>`,
      )
      .join('');
    parts.push(
      `<table class="comparison" data-scenario="${htmlEscape(s.scenario)}"><thead><tr><th>metric</th><th>baseline</th><th>candidate</th><th>change</th><th>verdict</th></tr></thead><tbody>${body}</tbody></table>`,
    );
  }
  return parts.join('\n');
}
