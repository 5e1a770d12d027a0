/**
 * A baseline: an earlier certification's output directory (its certification.json and each scenario's result.json,
 * by paths relative to it), read to compare a candidate with.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from '../runner/result.ts';
import { loadResult } from '../runner/result-file.ts';
import { StreamproofError } from '../util/errors.ts';
import { CERTIFICATION_FORMAT, type Certification } from './certification.ts';

export interface Baseline {
  readonly dir: string;
  readonly certification: Certification;
  /** The baseline's results by scenario name (those that could be read). */
  readonly results: ReadonlyMap<string, RunResult>;
  readonly notes: readonly string[];
}

/**
 * Reads a baseline: an earlier certification's output directory. No certification.json, or one of another format,
 * is a usage error naming the directory; an unreadable per-scenario result is a note (that scenario then counts as
 * missing from the baseline).
 */
export function loadBaseline(dir: string): Baseline {
  const file = join(dir, 'certification.json');
  let cert: Certification;
  try {
    cert = JSON.parse(readFileSync(file, 'utf8')) as Certification;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new StreamproofError(
      'USAGE',
      code === 'ENOENT'
        ? `${dir}: no certification.json; a baseline is the --out directory of an earlier \`streamproof certify\``
        : `${file}: cannot read the baseline (${(err as Error).message})`,
    );
  }
  if (cert?.format !== CERTIFICATION_FORMAT || !Array.isArray(cert.runs)) {
    throw new StreamproofError(
      'USAGE',
      `${file}: format: expected "${CERTIFICATION_FORMAT}" with runs, got ${JSON.stringify(cert?.format ?? null)}`,
    );
  }
  const results = new Map<string, RunResult>();
  const notes: string[] = [];
  for (const run of cert.runs) {
    if (!run.result) {
      notes.push(`baseline ${run.scenario}: no result.json (${run.error ?? 'the run crashed'}); not compared`);
      continue;
    }
    try {
      results.set(run.scenario, loadResult(join(dir, run.result)));
    } catch (err) {
      notes.push(`baseline ${run.scenario}: ${(err as Error).message}; not compared`);
    }
  }
  return { dir, certification: cert, results, notes };
}
