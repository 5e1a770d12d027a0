/**
 * `streamproof export k6 <scenario> [--out FILE] [--url URL] [--json]`: the scenario's load as a k6 script (see
 * harness/export/k6.ts and docs/k6.md). To stdout without --out; with --json, a summary document on stdout.
 */
import { writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { exportK6 } from '../export/k6.ts';
import { loadScenario } from '../runner/scenario.ts';
import { StreamproofError } from '../util/errors.ts';
import { parse } from './args.ts';
import { type Command, output } from './command.ts';

const usage = 'export k6 <scenario> [--out FILE] [--url URL] [--json]';
const FORMATS = ['k6'] as const;

export const exportCommand: Command = {
  name: 'export',
  usage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { out: { type: 'string' }, url: { type: 'string' }, json: { type: 'boolean' } },
      `streamproof ${usage}`,
    );
    if (values.help) {
      process.stdout.write(`usage: streamproof ${usage}\n`);
      return 0;
    }
    const [format, file, ...rest] = positionals;
    if (format === undefined || !(FORMATS as readonly string[]).includes(format))
      throw new StreamproofError(
        'USAGE',
        `<format>: expected one of ${FORMATS.join(', ')}, got ${format === undefined ? 'nothing' : `"${format}"`}\nusage: streamproof ${usage}`,
      );
    if (file === undefined) throw new StreamproofError('USAGE', `<scenario>: missing\nusage: streamproof ${usage}`);
    if (rest.length > 0)
      throw new StreamproofError('USAGE', `unexpected argument "${rest[0]}"\nusage: streamproof ${usage}`);
    const url = values.url as string | undefined;
    if (url !== undefined) {
      let u: URL | undefined;
      try {
        u = new URL(url);
      } catch {
        u = undefined;
      }
      if (u === undefined || (u.protocol !== 'http:' && u.protocol !== 'https:'))
        throw new StreamproofError('USAGE', `--url: expected an http:// or https:// URL, got "${url}"`);
    }
    if (values.out === '') throw new StreamproofError('USAGE', '--out: expected a file path');
    const { scenario } = await loadScenario(file);
    const out = exportK6(scenario, { ...(url === undefined ? {} : { url }), source: `streamproof export k6 ${file}` });
    const o = output(values.json === true);
    if (values.out !== undefined) {
      const path = resolve(values.out as string);
      writeFileSync(path, out.script);
      const summary = {
        file: path,
        scenario: scenario.name,
        url: out.url,
        batch: out.batch,
        executor: out.scenario.executor,
        thresholds: out.thresholds,
        unmapped: out.unmapped,
      };
      if (o.json) o.data(summary);
      else {
        o.print(
          `wrote ${relative(process.cwd(), path) || path}: ${out.scenario.executor}, ${out.batch} events per request, to ${out.url}`,
        );
        for (const [metric, exprs] of Object.entries(out.thresholds))
          o.print(`  threshold ${metric}: ${exprs.join(', ')}`);
        for (const u of out.unmapped) o.print(`  no k6 equivalent: ${u}`);
      }
    } else if (o.json) {
      o.data({
        scenario: scenario.name,
        url: out.url,
        batch: out.batch,
        thresholds: out.thresholds,
        unmapped: out.unmapped,
        script: out.script,
      });
    } else {
      process.stdout.write(out.script);
    }
    return 0;
  },
};
