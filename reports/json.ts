/**
 * JSON report: the canonical data. One run: its result, unchanged. Several runs: an envelope with the overall
 * verdict, the runs' results and the caller's extra sections and test cases.
 */
import { type ReportInput, verdictOfInput } from './input.ts';

export const REPORT_FORMAT = 'streamproof.report/1';

export function jsonReport(input: ReportInput): string {
  const single = input.runs.length === 1 && !input.sections?.length && !input.extraTestcases?.length && !input.verdict;
  const doc = single
    ? input.runs[0]
    : {
        format: REPORT_FORMAT,
        title: input.title,
        verdict: verdictOfInput(input),
        runs: input.runs,
        sections: input.sections ?? [],
        extraTestcases: input.extraTestcases ?? [],
      };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
