import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { lakeReport } from '../../reference-pipeline/analytics/analytics.ts';
import { LAKE_COLUMNS } from '../../reference-pipeline/lake/columns.ts';
import { type LakeFile, writeCommit } from '../../reference-pipeline/lake/commit-log.ts';
import { type AttributionRecord, attribute } from '../../reference-pipeline/model/index.ts';
import { click, conversion, impression, T0 } from '../../reference-pipeline/model/test-support.ts';
import { readLake, referenceLakeOutput } from './lake.ts';
import { checkLakeAnalytics, expectedAggregates } from './lake-analytics.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const H = 3_600_000;
/** u1: impression, click, conversion (100 USD); u2: a direct conversion (50 EUR); u3: a click, a revenue-less one. */
const records: AttributionRecord[] = attribute([
  impression(1, T0 - 2 * H, { user: 'u1', channel: 'display' }),
  click(2, T0 - H, { user: 'u1', channel: 'search' }),
  conversion(3, T0, 100, 'USD', { user: 'u1' }),
  conversion(1, T0, 50, 'EUR', { user: 'u2' }),
  click(1, T0 - H, { user: 'u3', channel: 'email' }),
  conversion(2, T0, null, null, { user: 'u3' }),
]).records;

/** Writes the records as the reference sink does: one Parquet file per batch, a commit each (its own writer). */
async function referenceLake(batches: AttributionRecord[][], opts: { commitTwice?: number } = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'lake-analytics-'));
  dirs.push(dir);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const cols = LAKE_COLUMNS.attributions;
  let seq = 0;
  for (const [b, batch] of batches.entries()) {
    const path = `attributions/date=2024-01-31/hour=00/part-${String(b + 1).padStart(8, '0')}-0.parquet`;
    mkdirSync(join(dir, 'attributions/date=2024-01-31/hour=00'), { recursive: true });
    const json = join(dir, `batch-${b}.json`);
    writeFileSync(json, batch.map((r) => JSON.stringify({ ...r, kafka_partition: 0, kafka_offset: b })).join('\n'));
    const types = cols.map(([n, t]) => `${n}: '${t}'`).join(', ');
    await c.run(`COPY (SELECT * FROM read_json('${json}', format = 'newline_delimited', columns = {${types}}))
      TO '${join(dir, path)}' (FORMAT parquet)`);
    const file: LakeFile = { path, table: 'attributions', rows: batch.length, date: '2024-01-31', hour: '00' };
    const commit = (files: LakeFile[]) =>
      writeCommit(dir, {
        version: 1,
        seq: ++seq,
        committed_at: new Date(T0 + seq * 1000).toISOString(),
        files,
        offsets: {},
        rows: { attributions: batch.length, events: 0 },
      });
    commit([file]);
    if (opts.commitTwice === b) commit([file]);
  }
  c.closeSync();
  db.closeSync();
  return dir;
}

describe('lake analytics', () => {
  it('the model aggregates cover revenue, direct conversions and revenue-less ones', () => {
    const a = expectedAggregates(records);
    expect(a.revenue.get('linear|search|c2|USD')).toEqual({ conversions: 1, revenue_minor: 5000 });
    expect(a.revenue.get('last-touch|direct|(none)|EUR')).toEqual({ conversions: 1, revenue_minor: 5000 });
    expect(a.revenue.get('first-touch|email|c1|-')).toEqual({ conversions: 1, revenue_minor: 0 });
    expect(a.paths).toEqual(
      new Map([
        ['display > search', { conversions: 1, revenue_minor: 10000 }],
        ['(direct)', { conversions: 1, revenue_minor: 5000 }],
        ['email', { conversions: 1, revenue_minor: 0 }],
      ]),
    );
  });

  it('a correct lake equals the model, and the pipeline analytics job agrees with the harness query', async () => {
    const dir = await referenceLake([records.slice(0, 7), records.slice(7)]);
    const r = await checkLakeAnalytics(dir, records);
    expect(r).toMatchObject({ checker: 'lake-analytics', valid: true, anomalyTypes: [], mismatches: [] });
    expect(r.counts).toEqual({ compared: 1 + expectedAggregates(records).revenue.size + 3, mismatched: 0, files: 2 });
    const job = await lakeReport(dir, { topPaths: 100 });
    const mine = expectedAggregates(records);
    for (const row of job.revenue) {
      const key = `${row.model}|${row.channel}|${row.campaign}|${row.currency ?? '-'}`;
      expect(mine.revenue.get(key)).toEqual({ conversions: row.conversions, revenue_minor: row.revenue_minor });
    }
    expect(
      new Map(job.topPaths.map((p) => [p.path, { conversions: p.conversions, revenue_minor: p.revenue_minor }])),
    ).toEqual(mine.paths);
    // readLake reads the reference sink's lake through referenceLakeOutput().
    const read = await readLake(referenceLakeOutput(), dir);
    expect(read.rowCount).toBe(records.length);
    expect(read.rows[0]).toMatchObject({ key: 'u1', time: T0 + 1000 });
    expect(read.problems).toEqual([]);
  });

  it('a file committed twice is a mismatch of counts and sums', async () => {
    const dir = await referenceLake([records.slice(0, 7), records.slice(7)], { commitTwice: 1 });
    const r = await checkLakeAnalytics(dir, records);
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['mismatch']);
    const table = r.mismatches.find((m) => m.aggregate === 'table');
    expect(table).toEqual({
      aggregate: 'table',
      key: 'attributions',
      expected: { rows: records.length, distinct: records.length },
      observed: { rows: 2 * records.length - 7, distinct: records.length },
    });
    expect(r.mismatches.some((m) => m.aggregate === 'revenue' && m.observed !== null && m.expected !== null)).toBe(
      true,
    );
  });

  it('a missing batch is a mismatch, unknown after an incomplete drain; an empty lake is all mismatch', async () => {
    const dir = await referenceLake([records.slice(0, 7)]);
    const r = await checkLakeAnalytics(dir, records);
    expect(r.valid).toBe(false);
    expect(r.mismatches.some((m) => m.observed === null)).toBe(true);
    const late = await checkLakeAnalytics(dir, records, { drainComplete: false, maxExamples: 1 });
    expect(late).toMatchObject({ valid: 'unknown', anomalyTypes: [] });
    expect(late.mismatches).toHaveLength(1);
    expect(late.counts.mismatched).toBeGreaterThan(1);
    const empty = await checkLakeAnalytics(join(dir, 'nothing'), records);
    expect(empty.valid).toBe(false);
    expect(empty.mismatches[0]).toMatchObject({ aggregate: 'table', observed: { rows: 0, distinct: 0 } });
    expect((await checkLakeAnalytics(join(dir, 'nothing'), [])).valid).toBe(true);
  });
});
