/**
 * A stored result.json read back and checked (the report command, a baseline, the vitest matchers). Part of the
 * result model: pure but for the one file read, so the reporters may use it.
 */
import { readFileSync } from 'node:fs';
import { StreamproofError } from '../util/errors.ts';
import { RESULT_FORMAT, type RunResult } from './result.ts';

/**
 * Read a stored result.json. A missing, unreadable or non-result file is a usage error naming the file (exit 64).
 */
export function loadResult(path: string): RunResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new StreamproofError(
      'USAGE',
      `${path}: cannot read the result file (${code ?? (err as Error).message}); pass the result.json a run wrote`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new StreamproofError('USAGE', `${path}: not JSON (${(err as Error).message}); expected a result.json`);
  }
  const format = (data as { format?: unknown } | null)?.format;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new StreamproofError('USAGE', `${path}: expected a JSON object with format "${RESULT_FORMAT}"`);
  }
  if (format !== RESULT_FORMAT) {
    throw new StreamproofError(
      'USAGE',
      `${path}: format: expected "${RESULT_FORMAT}", got ${format === undefined ? 'none' : JSON.stringify(format)}`,
    );
  }
  const r = data as Partial<RunResult>;
  for (const field of ['name', 'verdict', 'counts', 'checkers', 'faults'] as const) {
    if (r[field] === undefined || r[field] === null) {
      throw new StreamproofError('USAGE', `${path}: ${field}: missing from the result`);
    }
  }
  if (!['pass', 'fail', 'slo-breach', 'unknown'].includes(r.verdict as string)) {
    throw new StreamproofError('USAGE', `${path}: verdict: expected pass, fail, slo-breach or unknown`);
  }
  return data as RunResult;
}
