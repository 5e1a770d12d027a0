/**
 * A lake output: where the pipeline's rows land as Parquet files, and how the harness knows which files are visible.
 * The scenario writes it as `"output": { "lake": { ... } }` (docs/lake.md):
 *
 *   { "path": "attributions-lake", "format": "parquet" }                       the minimum
 *   { "path": ".", "format": "parquet", "table": "attributions",
 *     "commits": "log", "keyColumn": "user_id", "latencyColumn": "visible_at" } every option
 *
 * - `path`: the lake's root, relative to the run's lake directory (`STREAMPROOF_LAKE_DIR`, `<outDir>/lake`) unless
 *   absolute. The commit log is `<path>/_commits/`.
 * - `table`: a sub-directory of the root holding this output's files (`attributions`); only committed files under it
 *   are read. Default: the whole root.
 * - `commits`: `"log"` (default) reads only the files the commit log names; `"none"` reads every Parquet file under
 *   the table (weaker: a half-written file is read too).
 * - `keyColumn`: the column whose value is each row's key (for per-user order); default none.
 * - `latencyColumn`: the column holding each row's visibility time (epoch ms, or a timestamp); default the commit's
 *   time (`committed_at`, else the commit file's modification time; with `"commits": "none"` the file's).
 */
import { isAbsolute, join } from 'node:path';
import { StreamproofError } from '../util/errors.ts';

export const LAKE_FORMATS = ['parquet'] as const;
export const LAKE_COMMIT_MODES = ['log', 'none'] as const;
export type LakeCommitMode = (typeof LAKE_COMMIT_MODES)[number];

export interface LakeOutputSpec {
  readonly path: string;
  readonly format: 'parquet';
  readonly table?: string | undefined;
  /** Default `log`. */
  readonly commits?: LakeCommitMode | undefined;
  readonly keyColumn?: string | undefined;
  readonly latencyColumn?: string | undefined;
}

const FIELDS = ['path', 'format', 'table', 'commits', 'keyColumn', 'latencyColumn'] as const;

function bad(path: string, expected: string, got: unknown): never {
  const shown = got === undefined ? 'nothing' : (JSON.stringify(got) ?? String(got));
  throw new StreamproofError(
    'INVALID_SCENARIO',
    `${path}: expected ${expected}, got ${shown.length > 80 ? `${shown.slice(0, 77)}...` : shown}`,
    { path },
  );
}

function text(v: unknown, path: string, optional: boolean): string | undefined {
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v.trim().length === 0) bad(path, 'a non-empty string', v);
  return v;
}

/**
 * Validates the `lake` object of a scenario's output (`path` names it in messages, e.g. `output.lake`). Pure: it
 * touches no file. Throws StreamproofError `INVALID_SCENARIO` (exit 64) naming the bad field.
 */
export function validateLakeOutput(raw: unknown, path: string): LakeOutputSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad(path, 'an object', raw);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!(FIELDS as readonly string[]).includes(k)) {
      throw new StreamproofError('INVALID_SCENARIO', `${path}.${k}: unknown field (known: ${FIELDS.join(', ')})`, {
        path: `${path}.${k}`,
      });
    }
  }
  const lakePath = text(o.path, `${path}.path`, false)!;
  if (o.format !== 'parquet') bad(`${path}.format`, '"parquet"', o.format);
  const table = text(o.table, `${path}.table`, true);
  if (
    table !== undefined &&
    (isAbsolute(table) ||
      table.includes('\\') ||
      table.split('/').some((part) => part === '' || part === '.' || part === '..'))
  ) {
    bad(`${path}.table`, 'a sub-directory of the lake path, like "attributions" (no "..", not absolute)', table);
  }
  const commits = o.commits === undefined ? 'log' : o.commits;
  if (!(LAKE_COMMIT_MODES as readonly unknown[]).includes(commits)) {
    bad(`${path}.commits`, 'one of "log", "none"', commits);
  }
  const keyColumn = text(o.keyColumn, `${path}.keyColumn`, true);
  const latencyColumn = text(o.latencyColumn, `${path}.latencyColumn`, true);
  return {
    path: lakePath,
    format: 'parquet',
    commits: commits as LakeCommitMode,
    ...(table === undefined ? {} : { table }),
    ...(keyColumn === undefined ? {} : { keyColumn }),
    ...(latencyColumn === undefined ? {} : { latencyColumn }),
  };
}

/** The lake's root directory: `spec.path` under the run's lake directory, or as is when absolute. */
export function lakeRoot(spec: LakeOutputSpec, lakeDir: string): string {
  return isAbsolute(spec.path) ? spec.path : join(lakeDir, spec.path);
}

/**
 * The reference pipeline's lake (what the runner reads for `--sut reference` when the scenario names no lake): its
 * sink writes the `attributions` table at the root of `STREAMPROOF_LAKE_DIR` with a commit log, rows keyed by user;
 * lake latency is measured to each commit's time.
 */
export function referenceLakeOutput(): LakeOutputSpec {
  return { path: '.', format: 'parquet', table: 'attributions', commits: 'log', keyColumn: 'user_id' };
}
