/** One entry point for every format (the `report` command and `certify` call this). */
import { htmlReport } from './html.ts';
import type { ReportInput } from './input.ts';
import { jsonReport } from './json.ts';
import { junitReport } from './junit.ts';
import { markdownReport } from './markdown.ts';

export const REPORT_FORMATS = ['html', 'md', 'junit', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The usual file name of each format. */
export const REPORT_FILE: Readonly<Record<ReportFormat, string>> = {
  html: 'report.html',
  md: 'report.md',
  junit: 'junit.xml',
  json: 'report.json',
};

export function renderReport(format: ReportFormat, input: ReportInput): string {
  switch (format) {
    case 'html':
      return htmlReport(input);
    case 'md':
      return markdownReport(input);
    case 'junit':
      return junitReport(input);
    case 'json':
      return jsonReport(input);
  }
}
