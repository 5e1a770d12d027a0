/**
 * Markdown report: fits a pull-request comment or a CI step summary (GitHub-flavoured tables, no emoji, no HTML).
 * Per run: verdict, seed and replay command when it failed, SLO table, counts and anomaly counts, checkers, faults
 * with recovery times, a few anomaly examples with the path of the full lists. Text is escaped so result data
 * (names, reasons, keys) cannot break a table or inject markup.
 */
import type { RunResult } from '../harness/runner/result.ts';
import {
  anomalyViews,
  CHECKER_LABEL,
  COUNT_KEYS,
  checkerStatus,
  dlqText,
  drainText,
  errorWhere,
  faultRows,
  fmtMs,
  fmtNum,
  fmtValue,
  lakeText,
  MAX_EXAMPLES,
  noThresholdsText,
  recoveryText,
  thresholdStatus,
  thresholds,
  verdictText,
} from './facts.ts';
import { fileLink, type ReportInput, verdictOfInput } from './input.ts';
import { stripInvalidXml } from './xml.ts';

/** Plain text for a table cell or a line: no pipes, no newlines, no raw HTML. */
export function mdText(s: unknown): string {
  return stripInvalidXml(String(s))
    .replace(/&(?=#?\w+;)/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n|\r/g, ' ');
}

/** An inline code span that survives backticks, pipes and newlines in its content. */
export function mdCode(s: unknown): string {
  const text = stripInvalidXml(String(s))
    .replace(/\r?\n|\r/g, ' ')
    .replace(/\|/g, '\\|');
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function runSection(run: RunResult, input: ReportInput, level: string): string {
  const out: string[] = [];
  out.push(`${level} ${mdText(run.name)}: ${run.verdict.toUpperCase()} (exit ${run.exitCode})`);
  out.push('');
  if (input.runs.length > 1) {
    out.push(`${mdText(verdictText(run.verdict))}.`);
    out.push('');
  }
  const env = Object.entries(run.environment ?? {})
    .map(([k, v]) => `${mdText(k)} ${mdText(v)}`)
    .join(', ');
  out.push(
    `Seed ${mdCode(run.seed)}, started ${mdText(run.startedAt)}, ${fmtNum(run.durationSeconds, 1)} s; ${env || 'environment not recorded'}.`,
  );
  if (run.exitCode !== 0) {
    out.push('');
    out.push('Replay:');
    out.push('');
    out.push('```sh');
    out.push(run.replay.replace(/```/g, '`\u200b``'));
    out.push('```');
  }
  if (run.error) {
    out.push('');
    out.push(`Harness error ${mdCode(run.error.code)}${mdText(errorWhere(run))}: ${mdText(run.error.message)}`);
  }

  const ts = thresholds(run);
  out.push('');
  out.push(`${level}# SLOs`);
  out.push('');
  out.push(
    ts.length === 0
      ? noThresholdsText(run)
      : table(
          ['metric', 'threshold', 'observed', 'limit', 'ok'],
          ts.map((t) => [
            mdText(t.metric),
            mdCode(t.expression),
            fmtValue(t.observed, t.unit, t.limit),
            fmtValue(t.limit, t.unit, t.observed),
            thresholdStatus(t.ok),
          ]),
        ),
  );

  const c = run.counts;
  out.push('');
  out.push(`${level}# Counts`);
  out.push('');
  out.push(table([...COUNT_KEYS], [COUNT_KEYS.map((k) => fmtNum(c[k]))]));
  const drain = drainText(run);
  if (drain) {
    out.push('');
    out.push(`Drain: ${mdText(drain)}`);
  }
  for (const [label, text] of [
    ['Dead-letter queue', dlqText(run)],
    ['Lake', lakeText(run)],
  ] as const) {
    if (text) out.push('', `${label}: ${mdText(text)}`);
  }
  const e2e = run.latency?.e2e;
  if (e2e) {
    out.push('');
    out.push(
      `End-to-end latency: p50 ${fmtMs(e2e.p50Ms)}, p95 ${fmtMs(e2e.p95Ms)}, p99 ${fmtMs(e2e.p99Ms)}, max ${fmtMs(e2e.maxMs)} (${fmtNum(e2e.count)} records).`,
    );
  }

  out.push('');
  out.push(`${level}# Checkers`);
  out.push('');
  const checkers = Object.entries(run.checkers ?? {});
  out.push(
    checkers.length === 0
      ? 'No checker ran (the run did not get that far); the verdict is unknown.'
      : table(
          ['checker', 'result', 'anomalies', 'reason'],
          checkers.map(([name, v]) => [
            mdText(CHECKER_LABEL[name] ?? name),
            checkerStatus(v.valid),
            v.anomalyTypes.length ? v.anomalyTypes.map(mdText).join(', ') : '-',
            v.reason ? mdText(v.reason) : '-',
          ]),
        ),
  );

  const faults = faultRows(run);
  out.push('');
  out.push(`${level}# Faults`);
  out.push('');
  out.push(
    faults.length === 0
      ? 'No faults were injected.'
      : table(
          ['#', 'fault', 'target', 'start (s)', 'healed (s)', 'recovery'],
          faults.map((f) => [
            String(f.index + 1),
            mdText(f.detail ? `${f.fault} (${f.detail})` : f.fault),
            f.target ? mdText(f.target) : '-',
            f.startSec.toFixed(1),
            f.healSec === null ? 'not healed' : f.healSec.toFixed(1),
            mdText(recoveryText(f.recovery)),
          ]),
        ),
  );

  const anomalies = anomalyViews(run);
  if (anomalies.length > 0) {
    const file = run.files?.anomalies;
    out.push('');
    out.push(`${level}# Anomalies`);
    out.push('');
    out.push(
      `Up to ${MAX_EXAMPLES} examples per kind${file ? `; the full lists are in ${mdCode(fileLink(file, input.baseDir))}` : ''}.`,
    );
    out.push('');
    for (const a of anomalies) {
      const shown = a.examples.length < a.count ? ` (first ${a.examples.length})` : '';
      const ex = a.examples.length ? `${shown}: ${a.examples.map(mdCode).join(', ')}` : '';
      out.push(`- ${mdText(a.kind)}: ${fmtNum(a.count)}${ex}`);
    }
  }

  if (run.notes?.length) {
    out.push('');
    out.push(`${level}# Notes`);
    out.push('');
    for (const n of run.notes) out.push(`- ${mdText(n)}`);
  }
  return out.join('\n');
}

export function markdownReport(input: ReportInput): string {
  const verdict = verdictOfInput(input);
  const out: string[] = [];
  out.push(`# streamproof: ${mdText(input.title)}`);
  out.push('');
  out.push(`**Verdict: ${verdict.toUpperCase()}**: ${mdText(verdictText(verdict))}.`);
  const multi = input.runs.length > 1;
  if (multi) {
    out.push('');
    out.push(
      table(
        ['scenario', 'verdict', 'offered', 'observed', 'lost', 'duplicated', 'reordered', 'e2e p95', 'faults'],
        input.runs.map((r) => [
          mdText(r.name),
          r.verdict.toUpperCase(),
          fmtNum(r.counts.offered),
          fmtNum(r.counts.observed),
          fmtNum(r.counts.lost),
          fmtNum(r.counts.duplicated),
          fmtNum(r.counts.reordered),
          fmtMs(r.latency?.e2e?.p95Ms),
          String(r.faults.length),
        ]),
      ),
    );
  }
  if (input.runs.length === 0) {
    out.push('');
    out.push('No runs.');
  }
  for (const run of input.runs) {
    out.push('');
    out.push(runSection(run, input, '##'));
  }
  for (const s of input.sections ?? []) {
    out.push('');
    out.push(`## ${mdText(s.title)}`);
    out.push('');
    out.push(s.markdown ?? '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
