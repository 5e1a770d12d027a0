/**
 * A certification suite: a directory of scenario files plus an optional `certify.json`:
 *   { "description": "...", "scenarios": ["steady.json", "attributor-kill.json"], "tolerances": { "latencyPct": 20 } }
 * (`scenarios` fixes the order; without it every .json/.ts scenario file of the directory runs, by file name).
 * Each scenario's name keys its output directory and its row in the comparison, so names must be unique and safe
 * as a directory name.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadScenario, type Scenario } from '../runner/scenario.ts';
import { StreamproofError } from '../util/errors.ts';
import { resolveTolerances, type Tolerances } from './compare.ts';

export const SUITE_FILE = 'certify.json';

export interface SuiteEntry {
  /** The scenario's name: its output directory under OUT and its key in the comparison. */
  readonly name: string;
  readonly file: string;
  readonly scenario: Scenario;
}

export interface Suite {
  readonly dir: string;
  /** The suite file when there is one. */
  readonly file: string | null;
  readonly description: string | null;
  /** Tolerances the suite file sets (validated; unset keys fall back to the defaults or to flags). */
  readonly tolerances: Partial<Tolerances>;
  readonly entries: readonly SuiteEntry[];
}

/** Reads and validates a suite directory. Errors name the file and the field (exit 64). */
export async function loadSuite(dir: string): Promise<Suite> {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    throw new StreamproofError('USAGE', `${dir}: no such suite directory`);
  }
  const suiteFile = join(abs, SUITE_FILE);
  let spec: Record<string, unknown> = {};
  const where = join(dir, SUITE_FILE);
  if (existsSync(suiteFile)) {
    try {
      spec = JSON.parse(readFileSync(suiteFile, 'utf8'));
    } catch (err) {
      throw new StreamproofError('INVALID_SCENARIO', `${where}: not JSON (${(err as Error).message})`);
    }
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
      throw new StreamproofError('INVALID_SCENARIO', `${where}: expected an object`);
    }
    for (const k of Object.keys(spec)) {
      if (!['description', 'scenarios', 'tolerances'].includes(k)) {
        throw new StreamproofError(
          'INVALID_SCENARIO',
          `${where}: ${k}: unknown field (expected description, scenarios, tolerances)`,
        );
      }
    }
    if (spec.description !== undefined && typeof spec.description !== 'string') {
      throw new StreamproofError('INVALID_SCENARIO', `${where}: description: expected a string`);
    }
  }
  const tolerances: Partial<Tolerances> = {};
  if (spec.tolerances !== undefined) {
    const all = resolveTolerances(spec.tolerances, `${where}: tolerances`);
    for (const k of Object.keys(spec.tolerances as object) as (keyof Tolerances)[]) {
      (tolerances as Record<string, number>)[k] = all[k];
    }
  }
  let files: string[];
  if (spec.scenarios !== undefined) {
    if (!Array.isArray(spec.scenarios) || spec.scenarios.some((s) => typeof s !== 'string')) {
      throw new StreamproofError('INVALID_SCENARIO', `${where}: scenarios: expected an array of file names`);
    }
    files = spec.scenarios as string[];
    files.forEach((f, i) => {
      if (!existsSync(join(abs, f))) {
        throw new StreamproofError('INVALID_SCENARIO', `${where}: scenarios[${i}]: no such file ${join(dir, f)}`);
      }
    });
  } else {
    files = readdirSync(abs)
      .filter((f) => f !== SUITE_FILE && /\.(json|ts)$/.test(f) && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
      .sort();
  }
  if (files.length === 0) {
    throw new StreamproofError('INVALID_SCENARIO', `${dir}: the suite has no scenario files (.json or .ts)`);
  }
  const entries: SuiteEntry[] = [];
  for (const f of files) {
    const file = join(dir, f);
    let scenario: Scenario;
    try {
      scenario = (await loadScenario(file)).scenario;
    } catch (err) {
      if (err instanceof StreamproofError && !err.message.startsWith(file)) {
        throw new StreamproofError(err.code, `${file}: ${err.message}`, err.details);
      }
      throw err;
    }
    if (!/^[\w.-]+$/.test(scenario.name) || scenario.name.startsWith('.')) {
      throw new StreamproofError(
        'INVALID_SCENARIO',
        `${file}: name: "${scenario.name}" names an output directory: use letters, digits, '.', '_' or '-'`,
      );
    }
    const twin = entries.find((e) => e.name === scenario.name);
    if (twin) {
      throw new StreamproofError(
        'INVALID_SCENARIO',
        `${file}: name: "${scenario.name}" is also the name of ${twin.file}; names key the comparison, make them unique`,
      );
    }
    entries.push({ name: scenario.name, file, scenario });
  }
  return {
    dir,
    file: existsSync(suiteFile) ? where : null,
    description: (spec.description as string | undefined) ?? null,
    tolerances,
    entries,
  };
}
