/**
 * Reporters: they only format stored results (no new facts). Markdown for a pull request or CI step summary,
 * JUnit XML for CI servers, one self-contained HTML file with charts, and JSON (the canonical data).
 */
export { htmlReport } from './html.ts';
export {
  type ExtraTestcase,
  fileLink,
  loadResult,
  type ReportInput,
  type ReportSection,
  reportInputFor,
  type Verdict,
  worstVerdict,
} from './input.ts';
export { jsonReport, REPORT_FORMAT } from './json.ts';
export { junitReport } from './junit.ts';
export { markdownReport, mdCode, mdText } from './markdown.ts';
export { REPORT_FILE, REPORT_FORMATS, type ReportFormat, renderReport } from './render.ts';
export { htmlEscape, jsonForScript, xmlAttr, xmlText } from './xml.ts';
