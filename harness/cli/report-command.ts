/**
 * `streamproof report <result.json> --format html|md|junit|json [--out FILE]`: re-renders a stored result. Writes to
 * stdout unless --out is given; with --out, file links in the report (anomaly lists) are relative to its directory.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StreamproofError } from '../util/errors.ts';
import { parse } from './args.ts';
import type { Command } from './command.ts';

const FORMATS = ['html', 'md', 'junit', 'json'] as const;

export const reportCommand: Command = {
  name: 'report',
  usage: 'report <result.json> --format html|md|junit|json [--out FILE]',
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { format: { type: 'string' }, out: { type: 'string' } },
      `streamproof ${reportCommand.usage}`,
    );
    if (positionals.length !== 1) {
      throw new StreamproofError(
        'USAGE',
        `report: expected one result.json, got ${positionals.length}\nusage: streamproof ${reportCommand.usage}`,
      );
    }
    const format = values.format as string | undefined;
    if (format === undefined || !(FORMATS as readonly string[]).includes(format)) {
      throw new StreamproofError(
        'USAGE',
        `--format: expected one of ${FORMATS.join(', ')}, got ${format === undefined ? 'nothing' : `"${format}"`}`,
      );
    }
    const out = values.out as string | undefined;
    if (out !== undefined && out.trim() === '') throw new StreamproofError('USAGE', '--out: expected a file path');
    // Loaded on use, like the runner: `streamproof stack` does not need the reporters.
    const { loadResult, reportInputFor, renderReport } = await import('../../reports/index.ts');
    const result = loadResult(positionals[0]!);
    const baseDir = out === undefined ? undefined : dirname(resolve(out));
    const text = renderReport(format as (typeof FORMATS)[number], reportInputFor(result, { baseDir }));
    if (out === undefined) {
      process.stdout.write(text);
    } else {
      mkdirSync(dirname(resolve(out)), { recursive: true });
      writeFileSync(out, text);
      process.stderr.write(`report: wrote ${out}\n`);
    }
    return 0;
  },
};
