/**
 * Analytics CLI: `node --import tsx reference-pipeline/analytics/main.ts --lake DIR [--json] [--top N]`.
 * Exit 0 when the lake holds every record once, 1 when it holds duplicates, 64 on bad usage.
 */
import { parseArgs } from 'node:util';
import { formatReport, lakeReport } from './analytics.ts';

let values: { lake?: string; json?: boolean; top?: string };
try {
  ({ values } = parseArgs({
    options: { lake: { type: 'string' }, json: { type: 'boolean' }, top: { type: 'string' } },
    strict: true,
  }));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\nusage: analytics --lake DIR [--json] [--top N]\n`);
  process.exit(64);
}
const lake = values.lake ?? process.env.STREAMPROOF_LAKE_DIR;
if (!lake) {
  process.stderr.write('usage: analytics --lake DIR [--json] [--top N] (or STREAMPROOF_LAKE_DIR)\n');
  process.exit(64);
}
const top = values.top === undefined ? 10 : Number(values.top);
if (!Number.isInteger(top) || top < 1) {
  process.stderr.write(`--top: expected a positive integer, got ${values.top}\n`);
  process.exit(64);
}
const report = await lakeReport(lake, { topPaths: top });
process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
process.exit(report.exactlyOnce.valid ? 0 : 1);
