/**
 * Analytics over the lake: DuckDB reads only the files the commit log names (never a directory glob, which would
 * also see the debris of a crashed commit). Three reports:
 *   - revenue by model, channel, campaign and currency (sums of integer minor units, so they add up exactly),
 *   - top conversion paths (the channels of a conversion's credited touches, oldest first, from the `linear` model,
 *     whose records are exactly the touches in the window; `(direct)` when the window was empty),
 *   - the lake's own exactly-once check: rows vs distinct ids per table, and the duplicated ids.
 */
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { committedFiles, type LakeTable, readCommits } from '../lake/commit-log.ts';

export interface RevenueRow {
  model: string;
  channel: string;
  campaign: string;
  currency: string | null;
  conversions: number;
  revenue_minor: number;
}

export interface PathRow {
  path: string;
  conversions: number;
  revenue_minor: number;
}

export interface ExactlyOnceTable {
  rows: number;
  distinct: number;
  duplicates: { id: string; count: number }[];
}

export interface LakeReport {
  commits: number;
  files: number;
  revenue: RevenueRow[];
  topPaths: PathRow[];
  exactlyOnce: Record<LakeTable, ExactlyOnceTable> & { valid: boolean };
}

const ID_COLUMN: Record<LakeTable, string> = { attributions: 'record_id', events: 'event_id' };

function num(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

function sqlList(paths: string[]): string {
  return `[${paths.map((p) => `'${p.replace(/'/g, "''")}'`).join(', ')}]`;
}

export async function lakeReport(
  lakeDir: string,
  opts: { topPaths?: number; maxDuplicates?: number } = {},
): Promise<LakeReport> {
  const commits = readCommits(lakeDir);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const files = { attributions: committedFiles(lakeDir, 'attributions'), events: committedFiles(lakeDir, 'events') };
    const tableSql = (t: LakeTable) =>
      files[t].length === 0 ? null : `read_parquet(${sqlList(files[t].map((f) => join(lakeDir, f.path)))})`;
    const rows = async (sql: string) => (await conn.runAndReadAll(sql)).getRowObjectsJS();

    const exactly = async (t: LakeTable): Promise<ExactlyOnceTable> => {
      const src = tableSql(t);
      if (src === null) return { rows: 0, distinct: 0, duplicates: [] };
      const id = ID_COLUMN[t];
      const [c] = await rows(`SELECT count(*) AS n, count(DISTINCT ${id}) AS d FROM ${src}`);
      const dups = await rows(
        `SELECT ${id} AS id, count(*) AS n FROM ${src} GROUP BY ${id} HAVING count(*) > 1 ORDER BY n DESC, id LIMIT ${opts.maxDuplicates ?? 20}`,
      );
      return {
        rows: num(c!.n),
        distinct: num(c!.d),
        duplicates: dups.map((r) => ({ id: String(r.id), count: num(r.n) })),
      };
    };
    const attributions = await exactly('attributions');
    const events = await exactly('events');

    let revenue: RevenueRow[] = [];
    let topPaths: PathRow[] = [];
    const a = tableSql('attributions');
    if (a !== null) {
      revenue = (
        await rows(`
          SELECT model, channel, campaign, currency,
                 count(DISTINCT conversion_id) AS conversions,
                 coalesce(sum(revenue_credit_minor), 0)::BIGINT AS revenue_minor
          FROM ${a}
          GROUP BY ALL
          ORDER BY model, revenue_minor DESC, channel, campaign`)
      ).map((r) => ({
        model: String(r.model),
        channel: String(r.channel),
        campaign: String(r.campaign),
        currency: r.currency === null ? null : String(r.currency),
        conversions: num(r.conversions),
        revenue_minor: num(r.revenue_minor),
      }));
      topPaths = (
        await rows(`
          WITH conv AS (
            SELECT conversion_id,
                   CASE WHEN count(touch_event_id) = 0 THEN '(direct)'
                        ELSE string_agg(channel, ' > ' ORDER BY touch_time, touch_event_id) END AS path,
                   coalesce(sum(revenue_credit_minor), 0) AS revenue_minor
            FROM ${a}
            WHERE model = 'linear'
            GROUP BY conversion_id)
          SELECT path, count(*) AS conversions, sum(revenue_minor)::BIGINT AS revenue_minor
          FROM conv GROUP BY path ORDER BY conversions DESC, path LIMIT ${opts.topPaths ?? 10}`)
      ).map((r) => ({ path: String(r.path), conversions: num(r.conversions), revenue_minor: num(r.revenue_minor) }));
    }
    return {
      commits: commits.length,
      files: files.attributions.length + files.events.length,
      revenue,
      topPaths,
      exactlyOnce: {
        attributions,
        events,
        valid: attributions.duplicates.length === 0 && events.duplicates.length === 0,
      },
    };
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** The report as text for a person. */
export function formatReport(r: LakeReport): string {
  const out: string[] = [];
  out.push(`lake: ${r.commits} commits, ${r.files} files`);
  out.push('', 'exactly-once:');
  for (const t of ['attributions', 'events'] as const) {
    const e = r.exactlyOnce[t];
    out.push(
      `  ${t}: ${e.rows} rows, ${e.distinct} distinct ids, ${e.duplicates.length === 0 ? 'no duplicates' : `DUPLICATES: ${e.duplicates.map((d) => `${d.id} x${d.count}`).join(', ')}`}`,
    );
  }
  out.push('', 'revenue by model / channel / campaign (minor units):');
  for (const x of r.revenue.slice(0, 50)) {
    out.push(
      `  ${x.model.padEnd(15)} ${x.channel.padEnd(10)} ${x.campaign.padEnd(12)} ${String(x.currency ?? '-').padEnd(4)} ${String(x.revenue_minor).padStart(12)}  (${x.conversions} conversions)`,
    );
  }
  if (r.revenue.length > 50) out.push(`  ... ${r.revenue.length - 50} more rows (--json for all)`);
  out.push('', 'top conversion paths:');
  for (const p of r.topPaths) out.push(`  ${String(p.conversions).padStart(6)}  ${p.path}`);
  return out.join('\n');
}
