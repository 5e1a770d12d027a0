/**
 * The reports `streamproof run` writes beside result.json: report.html and report.md (paths in `result.files`); the
 * CLI and the library pass it to the runner as its `reports` phase (`RunOptions.writeReports`).
 * A reporter failure never fails the run: the file is dropped from `files` and a note says why.
 */
import { writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RunResult } from '../harness/runner/result.ts';
import { htmlReport } from './html.ts';
import { reportInputFor } from './input.ts';
import { markdownReport } from './markdown.ts';

export function writeRunReports(result: RunResult): void {
  // File links are relative to the run's directory (where result.json and the reports are).
  const resultFile = result.files.result;
  const input = reportInputFor(result, { baseDir: resultFile === undefined ? undefined : dirname(resultFile) });
  const targets: [keyof RunResult['files'], (i: typeof input) => string][] = [
    ['report', htmlReport],
    ['reportMarkdown', markdownReport],
  ];
  for (const [key, render] of targets) {
    const file = result.files[key];
    if (!file) continue;
    try {
      writeFileSync(file, render(input));
    } catch (err) {
      delete result.files[key];
      result.notes.push(`${key}: not written: ${(err as Error)?.message ?? err}`);
    }
  }
}
