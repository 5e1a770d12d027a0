/**
 * lake-analytics: the reference pipeline's lake analytics (revenue by model, channel, campaign and currency; the
 * conversion paths of the `linear` model; the table's row and distinct-record counts), run with DuckDB over the
 * committed files of the lake exactly as the pipeline's analytics job runs them, compared with the same aggregates
 * of the attribution model's records for the input that landed.
 *
 * Model: each aggregate is keyed (`revenue`: model|channel|campaign|currency; `paths`: the path; `table`:
 * `attributions`) and compared key by key: a key on one side only, or any value differing, is a `mismatch` with the
 * expected and observed values. Revenue sums are integer minor units, so equality is exact. A mismatch after an
 * incomplete drain is `unknown` (the sink may still be committing), never false. Like a checker's result, plain JSON;
 * it reads files (DuckDB) so the runner calls it after the drain and adds its result beside the checkers'.
 */
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { AttributionRecord } from '../../reference-pipeline/model/index.ts';
import type { CheckerResult } from '../checkers/types.ts';
import { listLake } from './lake-commits.ts';
import { type LakeOutputSpec, lakeRoot, referenceLakeOutput } from './lake-spec.ts';

export type LakeAggregate = 'table' | 'revenue' | 'paths';

export interface AggregateValues {
  readonly [field: string]: number;
}

export interface AnalyticsMismatch {
  readonly aggregate: LakeAggregate;
  readonly key: string;
  /** null: the key is missing on that side. */
  readonly expected: AggregateValues | null;
  readonly observed: AggregateValues | null;
}

export interface LakeAnalyticsResult extends CheckerResult {
  readonly checker: 'lake-analytics';
  readonly counts: { readonly compared: number; readonly mismatched: number; readonly files: number };
  readonly mismatches: readonly AnalyticsMismatch[];
}

export interface LakeAnalyticsOptions {
  /** The lake output holding the attributions. Default `referenceLakeOutput()`. */
  readonly spec?: LakeOutputSpec;
  /** False after an incomplete drain: a mismatch is then `unknown`. */
  readonly drainComplete?: boolean;
  /** Mismatches kept in the result (default 20). */
  readonly maxExamples?: number;
}

type Aggregates = Record<LakeAggregate, Map<string, AggregateValues>>;

const revenueKey = (model: unknown, channel: unknown, campaign: unknown, currency: unknown) =>
  `${String(model)}|${String(channel)}|${String(campaign)}|${currency === null || currency === undefined ? '-' : String(currency)}`;

/**
 * The aggregates of the model's records, as the analytics queries compute them, taken one record at a time: only
 * the current conversion's records are held (the model emits each conversion's records together), so millions of
 * records cost the aggregates' own size. Throws when a conversion's records are not contiguous.
 */
export function expectedAggregates(records: Iterable<AttributionRecord>): Aggregates {
  const revenue = new Map<string, { conversions: Set<string>; revenue_minor: number }>();
  const paths = new Map<string, { conversions: number; revenue_minor: number }>();
  const done = new Set<string>();
  let rows = 0;
  let distinct = 0;
  let current: string | undefined;
  let ids = new Set<string>();
  let linear: AttributionRecord[] = [];
  const close = () => {
    if (current === undefined) return;
    done.add(current);
    if (linear.length > 0) addPath(paths, linear);
  };
  for (const r of records) {
    if (r.conversion_id !== current) {
      close();
      if (done.has(r.conversion_id))
        throw new Error(`the records of conversion ${r.conversion_id} are not contiguous in the model's output`);
      current = r.conversion_id;
      ids = new Set();
      linear = [];
    }
    rows++;
    if (!ids.has(r.record_id)) {
      ids.add(r.record_id);
      distinct++;
    }
    const k = revenueKey(r.model, r.channel, r.campaign, r.currency);
    const g = revenue.get(k) ?? { conversions: new Set<string>(), revenue_minor: 0 };
    g.conversions.add(r.conversion_id);
    g.revenue_minor += r.revenue_credit_minor ?? 0;
    revenue.set(k, g);
    if (r.model === 'linear') linear.push(r);
  }
  close();
  return {
    table: new Map([['attributions', { rows, distinct }]]),
    revenue: new Map(
      [...revenue].map(([k, g]) => [k, { conversions: g.conversions.size, revenue_minor: g.revenue_minor }]),
    ),
    paths,
  };
}

/** One conversion's `linear` records -> its path (channels in touch order, `(direct)` without a touch). */
function addPath(paths: Map<string, { conversions: number; revenue_minor: number }>, list: AttributionRecord[]): void {
  const touched = list.filter((r) => r.touch_event_id !== null);
  const path =
    touched.length === 0
      ? '(direct)'
      : [...list]
          .sort(
            (a, b) =>
              (a.touch_time ?? Number.POSITIVE_INFINITY) - (b.touch_time ?? Number.POSITIVE_INFINITY) ||
              ((a.touch_event_id ?? '') < (b.touch_event_id ?? '') ? -1 : 1),
          )
          .map((r) => r.channel)
          .join(' > ');
  const g = paths.get(path) ?? { conversions: 0, revenue_minor: 0 };
  g.conversions += 1;
  g.revenue_minor += list.reduce((s, r) => s + (r.revenue_credit_minor ?? 0), 0);
  paths.set(path, g);
}

const num = (v: unknown) => (typeof v === 'bigint' ? Number(v) : Number(v ?? 0));

/** The same aggregates, by DuckDB over the committed files (a file named by two commits counts twice). */
async function observedAggregates(files: readonly string[]): Promise<Aggregates> {
  const out: Aggregates = { table: new Map(), revenue: new Map(), paths: new Map() };
  if (files.length === 0) {
    out.table.set('attributions', { rows: 0, distinct: 0 });
    return out;
  }
  const src = `read_parquet([${files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ')}], union_by_name = true)`;
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const rows = async (sql: string) => (await conn.runAndReadAll(sql)).getRowObjectsJS();
    const [t] = await rows(`SELECT count(*) AS n, count(DISTINCT record_id) AS d FROM ${src}`);
    out.table.set('attributions', { rows: num(t!.n), distinct: num(t!.d) });
    for (const r of await rows(`
        SELECT model, channel, campaign, currency,
               count(DISTINCT conversion_id) AS conversions,
               coalesce(sum(revenue_credit_minor), 0)::BIGINT AS revenue_minor
        FROM ${src} GROUP BY ALL`)) {
      out.revenue.set(revenueKey(r.model, r.channel, r.campaign, r.currency), {
        conversions: num(r.conversions),
        revenue_minor: num(r.revenue_minor),
      });
    }
    for (const r of await rows(`
        WITH conv AS (
          SELECT conversion_id,
                 CASE WHEN count(touch_event_id) = 0 THEN '(direct)'
                      ELSE string_agg(channel, ' > ' ORDER BY touch_time, touch_event_id) END AS path,
                 coalesce(sum(revenue_credit_minor), 0) AS revenue_minor
          FROM ${src} WHERE model = 'linear' GROUP BY conversion_id)
        SELECT path, count(*) AS conversions, sum(revenue_minor)::BIGINT AS revenue_minor FROM conv GROUP BY path`)) {
      out.paths.set(String(r.path), { conversions: num(r.conversions), revenue_minor: num(r.revenue_minor) });
    }
    return out;
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

function same(a: AggregateValues | null, b: AggregateValues | null): boolean {
  if (a === null || b === null) return a === b;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}

/**
 * Runs the lake analytics over the committed files of the reference lake (or `options.spec`'s) under `lakeDir` and
 * compares them with the model's `expectedAttributions`. Never throws for a bad lake: a DuckDB failure is `unknown`.
 */
export async function checkLakeAnalytics(
  lakeDir: string,
  expectedAttributions: Iterable<AttributionRecord>,
  options: LakeAnalyticsOptions = {},
): Promise<LakeAnalyticsResult> {
  const spec = options.spec ?? referenceLakeOutput();
  const root = lakeRoot(spec, lakeDir);
  const files = listLake(spec, root).refs.map((r) => join(root, r.path));
  const base = { checker: 'lake-analytics' as const };
  let observed: Aggregates;
  try {
    observed = await observedAggregates(files);
  } catch (err) {
    return {
      ...base,
      valid: 'unknown',
      anomalyTypes: [],
      reason: `DuckDB could not read the lake at ${root}: ${(err as Error).message.split('\n')[0]}`,
      counts: { compared: 0, mismatched: 0, files: files.length },
      mismatches: [],
    };
  }
  const expected = expectedAggregates(expectedAttributions);
  const mismatches: AnalyticsMismatch[] = [];
  let compared = 0;
  for (const aggregate of ['table', 'revenue', 'paths'] as const) {
    const want = expected[aggregate];
    const got = observed[aggregate];
    for (const key of [...new Set([...want.keys(), ...got.keys()])].sort()) {
      compared++;
      const e = want.get(key) ?? null;
      const o = got.get(key) ?? null;
      if (!same(e, o)) mismatches.push({ aggregate, key, expected: e, observed: o });
    }
  }
  const max = options.maxExamples ?? 20;
  const bad = mismatches.length > 0;
  const unknown = bad && options.drainComplete === false;
  return {
    ...base,
    valid: unknown ? 'unknown' : !bad,
    anomalyTypes: bad && !unknown ? ['mismatch'] : [],
    ...(unknown
      ? { reason: `${mismatches.length} aggregate(s) differ but the drain did not complete: the sink may still commit` }
      : {}),
    counts: { compared, mismatched: mismatches.length, files: files.length },
    mismatches: mismatches.slice(0, max),
  };
}
