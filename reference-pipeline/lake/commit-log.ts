/**
 * The lake's commit log: `_commits/NNNNNNNN.json`, one file per commit, numbered from 1 without gaps. A commit names
 * the Parquet files it makes visible and the Kafka position after them (the next offset to read, per topic and
 * partition, cumulative: the latest commit alone says where to resume).
 *
 * Atomic visibility: the data files are written and fsynced first, then the commit JSON goes to a temp file, is
 * fsynced, renamed to its final name (rename is atomic on POSIX), and the directory is fsynced. A reader that lists
 * `_commits/*.json` sees a commit entirely or not at all. A file that no commit names is the debris of a crash between
 * the two steps: readers ignore it and the sink deletes it on start.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join, relative, sep } from 'node:path';

export const LAKE_TABLES = ['attributions', 'events'] as const;
export type LakeTable = (typeof LAKE_TABLES)[number];

export interface LakeFile {
  /** Relative to the lake root, `/`-separated: `attributions/date=2026-01-31/hour=07/part-00000012-0.parquet`. */
  path: string;
  table: LakeTable;
  rows: number;
  date: string;
  hour: string;
}

export interface LakeCommit {
  version: 1;
  seq: number;
  committed_at: string;
  files: LakeFile[];
  /** Next offset to read, topic -> partition -> offset (decimal string: offsets are 64-bit). Cumulative. */
  offsets: Record<string, Record<string, string>>;
  rows: Record<LakeTable, number>;
}

const COMMITS = '_commits';
const NAME = /^(\d{8})\.json$/;

export function commitsDir(lakeDir: string): string {
  return join(lakeDir, COMMITS);
}

export function commitName(seq: number): string {
  return `${String(seq).padStart(8, '0')}.json`;
}

/** Every commit, in order. Throws on a malformed commit file or a gap: the lake would be ambiguous. */
export function readCommits(lakeDir: string): LakeCommit[] {
  let names: string[];
  try {
    names = readdirSync(commitsDir(lakeDir));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const commits = names
    .filter((n) => NAME.test(n))
    .sort()
    .map((n) => {
      const c = JSON.parse(readFileSync(join(commitsDir(lakeDir), n), 'utf8')) as LakeCommit;
      if (c.version !== 1 || c.seq !== Number(NAME.exec(n)![1]) || !Array.isArray(c.files)) {
        throw new Error(`lake commit ${n}: not a version-1 commit with seq ${Number(NAME.exec(n)![1])}`);
      }
      return c;
    });
  commits.forEach((c, i) => {
    if (c.seq !== i + 1)
      throw new Error(`lake commit log has a gap: expected ${commitName(i + 1)}, found ${commitName(c.seq)}`);
  });
  return commits;
}

/** Relative paths of every committed file (of one table, or all). */
export function committedFiles(lakeDir: string, table?: LakeTable): LakeFile[] {
  return readCommits(lakeDir)
    .flatMap((c) => c.files)
    .filter((f) => table === undefined || f.table === table);
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function fsyncFiles(lakeDir: string, files: readonly LakeFile[]): void {
  const dirs = new Set<string>();
  for (const f of files) {
    const abs = join(lakeDir, f.path);
    fsyncPath(abs);
    let d = abs.slice(0, abs.lastIndexOf(sep));
    while (d.length > lakeDir.length) {
      dirs.add(d);
      d = d.slice(0, d.lastIndexOf(sep));
    }
  }
  dirs.add(lakeDir);
  for (const d of dirs) fsyncPath(d);
}

/** Writes `commit` atomically: temp file, fsync, rename, fsync of `_commits`. */
export function writeCommit(lakeDir: string, commit: LakeCommit): void {
  const dir = commitsDir(lakeDir);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${commitName(commit.seq)}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, `${JSON.stringify(commit, null, 1)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, commitName(commit.seq)));
  fsyncPath(dir);
}

/** Deletes data files no commit names and temp commit files: the debris of a crash mid-commit. Returns what it deleted. */
export function removeUncommitted(lakeDir: string, commits: readonly LakeCommit[]): string[] {
  const keep = new Set(commits.flatMap((c) => c.files.map((f) => f.path)));
  const removed: string[] = [];
  const walk = (dir: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const abs = join(dir, e.name);
      if (e.isDirectory()) walk(abs);
      else if (e.name.endsWith('.parquet')) {
        const rel = relative(lakeDir, abs).split(sep).join('/');
        if (!keep.has(rel)) {
          rmSync(abs, { force: true });
          removed.push(rel);
        }
      }
    }
  };
  for (const t of LAKE_TABLES) walk(join(lakeDir, t));
  try {
    for (const n of readdirSync(commitsDir(lakeDir))) {
      if (n.endsWith('.tmp')) {
        rmSync(join(commitsDir(lakeDir), n), { force: true });
        removed.push(`${COMMITS}/${n}`);
      }
    }
  } catch {
    // no commits dir yet
  }
  return removed;
}
