/**
 * Reading a lake output after the drain: the committed Parquet files (lake-commits.ts) read with DuckDB, each row an
 * `OutputRecord` with `row` set, for the contract checks and for lake-visible latency (docs/lake.md).
 *
 * - `row`: column name -> JS value: integers as numbers (a 64-bit integer beyond 2^53 as its decimal string),
 *   timestamps and dates as epoch ms, strings as is, DECIMAL as a double, lists and structs converted alike. Hive-style
 *   `key=value` directories become columns, as DuckDB reads them.
 * - `time`: the row's visibility time: the `latencyColumn` value (epoch ms or a timestamp) when the spec names one,
 *   else its file's commit time.
 * - `partition` / `offset`: the file's index in `files` / the row's index in its file.
 * - `key`: the `keyColumn` value as a string, when the spec names one.
 *
 * DuckDB reads every distinct file once (`read_parquet` over the list, `union_by_name`), streamed chunk by chunk; a
 * file named by two commits has its rows emitted once per commit. Files whose footer DuckDB cannot read are reported
 * (`unreadable-file`) and skipped: their rows are missing.
 */
import { join } from 'node:path';
import { DuckDBInstance, JSDuckDBValueConverter } from '@duckdb/node-api';
import { StreamproofError } from '../util/errors.ts';
import type { OutputRecord } from './contract.ts';
import { type LakeCommitInfo, type LakeFileRef, type LakeProblem, listLake } from './lake-commits.ts';
import { type LakeOutputSpec, lakeRoot } from './lake-spec.ts';

export {
  LAKE_PROBLEMS,
  type LakeCommitInfo,
  type LakeFileRef,
  type LakeProblem,
  type LakeProblemKind,
} from './lake-commits.ts';
export {
  LAKE_COMMIT_MODES,
  type LakeCommitMode,
  type LakeOutputSpec,
  lakeRoot,
  referenceLakeOutput,
  validateLakeOutput,
} from './lake-spec.ts';

export interface LakeFileRead extends LakeFileRef {
  /** Rows read from it (0 when unreadable). */
  readonly rows: number;
}

export interface LakeRead {
  /** The lake's root directory. */
  readonly root: string;
  /** Every committed row, one per occurrence of its file; empty when `onRows` took them. */
  readonly rows: OutputRecord[];
  /** How many rows were read (also when `onRows` took them). */
  readonly rowCount: number;
  readonly files: LakeFileRead[];
  readonly commits: LakeCommitInfo[];
  readonly problems: LakeProblem[];
}

export interface ReadLakeOptions {
  /** Hands the rows over chunk by chunk (about 2048 at a time) instead of keeping them in `rows`. */
  readonly onRows?: (rows: OutputRecord[]) => void;
}

const FILE_COLUMN = '__streamproof_file';
const EMPTY = Buffer.alloc(0);
const NO_HEADERS: ReadonlyMap<string, Buffer> = new Map();
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A DuckDB JS value as plain data: bigint -> number when safe (else its decimal string), Date -> epoch ms. */
export function plainValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'bigint') return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v.toString();
    return v;
  }
  if (v instanceof Date) return v.getTime();
  if (Array.isArray(v)) return v.map(plainValue);
  if (ArrayBuffer.isView(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = plainValue(x);
  return out;
}

/** A visibility time from a latency column's plain value: epoch ms, or an ISO 8601 string. */
function timeValue(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isFinite(t) ? t : undefined;
  }
  return undefined;
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function sqlList(paths: readonly string[]): string {
  return `[${paths.map(sqlString).join(', ')}]`;
}

/** Reads the committed rows of one lake output. Throws StreamproofError `LAKE_READ_FAILED` when DuckDB fails. */
export async function readLake(
  spec: LakeOutputSpec,
  lakeDir: string,
  options: ReadLakeOptions = {},
): Promise<LakeRead> {
  const root = lakeRoot(spec, lakeDir);
  const listing = listLake(spec, root);
  const problems = [...listing.problems];
  const byPath = new Map<string, LakeFileRef[]>();
  for (const r of listing.refs) {
    const list = byPath.get(r.path);
    if (list) list.push(r);
    else byPath.set(r.path, [r]);
  }
  const counts = new Map<string, number>();
  const rows: OutputRecord[] = [];
  let rowCount = 0;
  let badTimes = 0;

  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    // Row counts from the footers; a file whose footer does not read is reported and skipped.
    const readable: string[] = [];
    const footers = async (paths: string[]) =>
      (
        await conn.runAndReadAll(
          `SELECT file_name, num_rows FROM parquet_file_metadata(${sqlList(paths.map((p) => join(root, p)))})`,
        )
      ).getRowObjectsJS();
    const distinct = [...byPath.keys()];
    if (distinct.length > 0) {
      try {
        await footers(distinct);
        readable.push(...distinct);
      } catch {
        for (const p of distinct) {
          try {
            await footers([p]);
            readable.push(p);
          } catch (err) {
            problems.push({
              kind: 'unreadable-file',
              file: p,
              message: `${p} is not a readable Parquet file (${(err as Error).message.split('\n')[0]}): its rows are missing`,
            });
          }
        }
      }
    }
    if (readable.length > 0) {
      const relOf = new Map(readable.map((p) => [join(root, p), p]));
      let result: Awaited<ReturnType<typeof conn.stream>>;
      try {
        result = await conn.stream(
          `SELECT * FROM read_parquet(${sqlList([...relOf.keys()])}, filename = ${sqlString(FILE_COLUMN)}, union_by_name = true)`,
        );
      } catch (err) {
        throw new StreamproofError(
          'LAKE_READ_FAILED',
          `lake ${root}: ${(err as Error).message}`,
          { root },
          { cause: err },
        );
      }
      const names = result.columnNames();
      const fileAt = names.indexOf(FILE_COLUMN);
      const cols = names.map((n, i) => ({ n, i })).filter((c) => c.i !== fileAt);
      const keyAt = spec.keyColumn === undefined ? -1 : names.indexOf(spec.keyColumn);
      const timeAt = spec.latencyColumn === undefined ? -1 : names.indexOf(spec.latencyColumn);
      try {
        for await (const chunk of result) {
          // Column by column: DuckDB's converters are much faster over a vector than row by row.
          const columns = chunk.convertColumns(JSDuckDBValueConverter);
          const out: OutputRecord[] = [];
          for (let j = 0; j < chunk.rowCount; j++) {
            const path = columns[fileAt]![j] as string;
            const rel = relOf.get(path);
            if (rel === undefined) throw new Error(`DuckDB named a file the harness did not list: ${path}`);
            const offset = counts.get(rel) ?? 0;
            counts.set(rel, offset + 1);
            const row: Record<string, unknown> = {};
            for (const c of cols) row[c.n] = plainValue(columns[c.i]![j]);
            const k = keyAt < 0 ? undefined : row[spec.keyColumn!];
            const key = k === null || k === undefined ? undefined : String(k);
            let own: number | undefined;
            if (spec.latencyColumn !== undefined) {
              own = timeAt < 0 ? undefined : timeValue(row[spec.latencyColumn]);
              if (own === undefined) badTimes++;
            }
            for (const ref of byPath.get(rel)!) {
              out.push({
                key,
                value: EMPTY,
                headers: NO_HEADERS,
                partition: ref.index,
                offset,
                time: own ?? ref.time,
                row,
              });
            }
          }
          rowCount += out.length;
          if (options.onRows) options.onRows(out);
          else for (const r of out) rows.push(r);
        }
      } catch (err) {
        throw new StreamproofError(
          'LAKE_READ_FAILED',
          `lake ${root}: ${(err as Error).message}`,
          { root },
          { cause: err },
        );
      }
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }

  if (badTimes > 0) {
    problems.push({
      kind: 'latency-value',
      count: badTimes,
      message: `${badTimes} row(s) have no usable ${spec.latencyColumn} (epoch ms or a timestamp): their commit time is used instead`,
    });
  }
  const files: LakeFileRead[] = listing.refs.map((r) => ({ ...r, rows: counts.get(r.path) ?? 0 }));
  for (const f of files) {
    if (f.declaredRows !== undefined && counts.has(f.path) && f.declaredRows !== f.rows) {
      problems.push({
        kind: 'row-count',
        file: f.path,
        ...(f.commit === null ? {} : { commit: f.commit }),
        declared: f.declaredRows,
        actual: f.rows,
        message: `commit ${f.commit} declares ${f.declaredRows} row(s) in ${f.path}, which holds ${f.rows}`,
      });
    }
  }
  return { root, rows, rowCount, files, commits: listing.commits, problems };
}
