/**
 * The reports `streamproof run` writes beside result.json: report.html and report.md (paths in `result.files`).
 * A reporter failure never fails the run: the file is dropped from `files` and a note says why.
 */
import { writeFileSync } from 'node:fs';
import type { RunResult } from '../harness/runner/result.ts';
import { htmlReport } from './html.ts';
import { reportInputFor } from './input.ts';
import { markdownReport } from './markdown.ts';

export function writeRunReports(outDir: string, result: RunResult): void {
  const input = reportInputFor(result, { baseDir: outDir });
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
