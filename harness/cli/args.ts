/**
 * Flag parsing for every command: node's parseArgs in strict mode, with errors turned into USAGE (exit 64) that name
 * the flag. Value checks (ranges, enums) live beside each command and also name the flag.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { StreamproofError } from '../util/errors.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** What `parse` returns (named, so the published declarations can state it). */
export interface ParsedArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

export function parse<T extends Options>(argv: string[], options: T, usage: string): ParsedArgs {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new StreamproofError('USAGE', `${(err as Error).message}\nusage: ${usage}`);
  }
}

export function intFlag(
  name: string,
  raw: string | undefined,
  opts: { min?: number; max?: number; oneOf?: number[] } = {},
): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  const ok =
    Number.isInteger(n) &&
    (opts.min === undefined || n >= opts.min) &&
    (opts.max === undefined || n <= opts.max) &&
    (opts.oneOf === undefined || opts.oneOf.includes(n));
  if (!ok) {
    const want = opts.oneOf
      ? `one of ${opts.oneOf.join(', ')}`
      : `an integer${opts.min !== undefined ? ` >= ${opts.min}` : ''}${opts.max !== undefined ? ` and <= ${opts.max}` : ''}`;
    throw new StreamproofError('USAGE', `--${name}: expected ${want}, got "${raw}"`);
  }
  return n;
}
