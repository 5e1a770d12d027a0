/**
 * Which files of a lake are visible, by the commit convention (docs/lake.md): `<root>/_commits/<n>.json`, one file
 * per commit, numbered from 1 without gaps (zero-padded to 8 digits by convention), each a JSON object whose `files`
 * list names the Parquet files it makes visible, relative to the root (a path string, or `{ "path": ..., "rows": n }`),
 * written atomically (temp file, then rename). `committed_at` (ISO 8601 or epoch ms) is the commit's time, else the
 * commit file's modification time.
 *
 * What breaks the convention is reported, never thrown: a commit naming a file that does not exist (`missing-file`:
 * its rows are lost), a file named by two commits (`double-commit`: its rows are read twice), a gap in the numbering
 * (`commit-gap`), a commit file that is not such an object (`malformed-commit`: its files are treated as debris), and
 * data files no commit names (`debris`: ignored, counted).
 */
import { type Dirent, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import type { LakeOutputSpec } from './lake-spec.ts';

export const COMMITS_DIR = '_commits';
const COMMIT_NAME = /^(\d+)\.json$/;

export const LAKE_PROBLEMS = [
  'missing-file',
  'double-commit',
  'commit-gap',
  'malformed-commit',
  'unreadable-file',
  'row-count',
  'debris',
  'latency-value',
] as const;
export type LakeProblemKind = (typeof LAKE_PROBLEMS)[number];

export interface LakeProblem {
  readonly kind: LakeProblemKind;
  /** For a person: what is wrong and what it does to the rows. */
  readonly message: string;
  /** The file concerned, relative to the lake root. */
  readonly file?: string;
  /** The commit concerned (its number). */
  readonly commit?: number;
  /** `double-commit`: every commit naming the file. */
  readonly commits?: readonly number[];
  /** `debris`, `latency-value`: how many files or rows. */
  readonly count?: number;
  /** `debris`: the first files found (relative to the root). */
  readonly files?: readonly string[];
  /** `row-count`: the rows the commit declared and the rows the file holds. */
  readonly declared?: number;
  readonly actual?: number;
}

/** One occurrence of a file in the lake: a file named by two commits occurs twice. */
export interface LakeFileRef {
  /** Relative to the lake root, `/`-separated. */
  readonly path: string;
  /** The commit naming it; null with `"commits": "none"`. */
  readonly commit: number | null;
  /** Position in the list of occurrences: the `partition` of its rows. */
  readonly index: number;
  /** When it became visible, epoch ms (its commit's time, or with no commit log its modification time). */
  readonly time: number;
  /** Rows the commit declared for it, when it did. */
  readonly declaredRows?: number | undefined;
}

export interface LakeCommitInfo {
  readonly seq: number;
  readonly name: string;
  readonly time: number;
  /** Files it names (all tables). */
  readonly files: number;
}

export interface LakeListing {
  readonly root: string;
  readonly refs: LakeFileRef[];
  readonly commits: LakeCommitInfo[];
  readonly problems: LakeProblem[];
}

const DEBRIS_EXAMPLES = 20;

/** Parquet files under `dir` (relative to `root`), skipping names that start with `.` or `_` (hidden, temporary). */
export function parquetFilesUnder(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name.startsWith('_')) continue;
      const abs = join(d, e.name);
      if (e.isDirectory()) walk(abs);
      else if (e.isFile() && e.name.endsWith('.parquet')) out.push(relative(root, abs).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

function normalise(p: string): string {
  return posix.normalize(p.replace(/\\/g, '/')).replace(/^\.\//, '');
}

function timeOf(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isFinite(t) ? t : undefined;
  }
  return undefined;
}

interface ParsedCommit {
  readonly files: { path: string; rows?: number | undefined }[];
  readonly time: number | undefined;
}

function parseCommit(text: string): ParsedCommit | string {
  let c: unknown;
  try {
    c = JSON.parse(text);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  if (typeof c !== 'object' || c === null || !Array.isArray((c as { files?: unknown }).files)) {
    return 'not an object with a "files" list';
  }
  const files: { path: string; rows?: number }[] = [];
  for (const f of (c as { files: unknown[] }).files) {
    if (typeof f === 'string' && f.length > 0) files.push({ path: f });
    else if (typeof f === 'object' && f !== null && typeof (f as { path?: unknown }).path === 'string') {
      const rows = (f as { rows?: unknown }).rows;
      files.push({ path: (f as { path: string }).path, ...(Number.isInteger(rows) ? { rows: rows as number } : {}) });
    } else return `a "files" entry is neither a path nor { "path": ... }: ${JSON.stringify(f)}`;
  }
  return { files, time: timeOf((c as { committed_at?: unknown }).committed_at) };
}

function mtime(abs: string): number {
  return statSync(abs).mtimeMs;
}

/** The visible files of one lake output, by its commit log (or every file with `"commits": "none"`). */
export function listLake(spec: LakeOutputSpec, root: string): LakeListing {
  const tableDir = spec.table === undefined ? root : join(root, spec.table);
  const inTable = (p: string) => spec.table === undefined || p.startsWith(`${spec.table}/`);
  const problems: LakeProblem[] = [];
  const refs: LakeFileRef[] = [];
  const commits: LakeCommitInfo[] = [];

  if ((spec.commits ?? 'log') === 'none') {
    for (const path of parquetFilesUnder(root, tableDir)) {
      refs.push({ path, commit: null, index: refs.length, time: mtime(join(root, path)) });
    }
    return { root, refs, commits, problems };
  }

  const dir = join(root, COMMITS_DIR);
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => COMMIT_NAME.test(n));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const numbered = names.map((name) => ({ name, seq: Number(COMMIT_NAME.exec(name)![1]) }));
  numbered.sort((a, b) => a.seq - b.seq || (a.name < b.name ? -1 : 1));
  const namedBy = new Map<string, number[]>();
  let expected = 1;
  for (const { name, seq } of numbered) {
    if (seq !== expected) {
      problems.push({
        kind: 'commit-gap',
        commit: seq,
        message:
          seq < expected
            ? `${COMMITS_DIR}/${name}: a second commit numbered ${seq}`
            : `${COMMITS_DIR}/${name}: commit numbering has a gap (expected ${expected}, found ${seq}): commits may be missing`,
      });
    }
    expected = Math.max(expected, seq + 1);
    const abs = join(dir, name);
    const parsed = parseCommit(readFileSync(abs, 'utf8'));
    if (typeof parsed === 'string') {
      problems.push({
        kind: 'malformed-commit',
        commit: seq,
        message: `${COMMITS_DIR}/${name}: ${parsed}; the files it may name are treated as uncommitted`,
      });
      continue;
    }
    const time = parsed.time ?? mtime(abs);
    commits.push({ seq, name, time, files: parsed.files.length });
    for (const f of parsed.files) {
      const path = normalise(f.path);
      if (!inTable(path)) continue;
      const by = namedBy.get(path);
      if (by) by.push(seq);
      else namedBy.set(path, [seq]);
      let exists = false;
      try {
        exists = statSync(join(root, path)).isFile();
      } catch {
        exists = false;
      }
      if (!exists) {
        problems.push({
          kind: 'missing-file',
          commit: seq,
          file: path,
          message: `commit ${seq} names ${path}, which does not exist: its rows are missing from the lake`,
        });
        continue;
      }
      refs.push({ path, commit: seq, index: refs.length, time, declaredRows: f.rows });
    }
  }
  for (const [path, by] of namedBy) {
    if (by.length > 1) {
      problems.push({
        kind: 'double-commit',
        file: path,
        commits: by,
        message: `${path} is named by ${by.length} commits (${by.join(', ')}): its rows are visible ${by.length} times`,
      });
    }
  }
  const debris = parquetFilesUnder(root, tableDir).filter((p) => !namedBy.has(p));
  if (debris.length > 0) {
    problems.push({
      kind: 'debris',
      count: debris.length,
      files: debris.slice(0, DEBRIS_EXAMPLES),
      message: `${debris.length} Parquet file(s) no commit names (uncommitted, ignored)${commits.length === 0 ? `; the lake has no commit log at ${COMMITS_DIR}/: write one, or read it with "commits": "none"` : ''}`,
    });
  }
  return { root, refs, commits, problems };
}
