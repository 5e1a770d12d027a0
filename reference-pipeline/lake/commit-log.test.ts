import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { lakeReport } from '../analytics/analytics.ts';
import { chunkBySize } from '../common/kafka.ts';
import { type LakeCommit, readCommits, removeUncommitted, writeCommit } from './commit-log.ts';
import { hourOf } from './sink.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function lake(): string {
  const d = mkdtempSync(join(tmpdir(), 'lake-unit-'));
  dirs.push(d);
  return d;
}

function commit(seq: number, files: LakeCommit['files']): LakeCommit {
  return {
    version: 1,
    seq,
    committed_at: '2026-01-01T00:00:00.000Z',
    files,
    offsets: { t: { '0': String(seq * 10) } },
    rows: { attributions: files.reduce((s, f) => s + f.rows, 0), events: 0 },
  };
}

/** Writes one attributions Parquet file with the given record ids through DuckDB. */
async function parquet(dir: string, rel: string, ids: string[]): Promise<void> {
  mkdirSync(join(dir, rel, '..'), { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const values = ids
    .map(
      (id) =>
        `('${id}', '${id.split(':')[0]}', 'u1', 'linear', 't1', 'click', 'search', 'c1', 1.0, 1.0, 100, 'USD', 0, 0, 0, 0)`,
    )
    .join(', ');
  await c.run(`COPY (SELECT * FROM (VALUES ${values}) AS v(record_id, conversion_id, user_id, model, touch_event_id,
    touch_type, channel, campaign, credit, revenue_credit, revenue_credit_minor, currency, conversion_time, touch_time,
    kafka_partition, kafka_offset)) TO '${join(dir, rel)}' (FORMAT parquet)`);
  c.closeSync();
  db.closeSync();
}

describe('lake commit log', () => {
  it('writes commits atomically, reads them in order, and removes what no commit names', () => {
    const d = lake();
    expect(readCommits(d)).toEqual([]);
    const f = {
      path: 'attributions/date=2026-01-01/hour=00/part-00000001-0.parquet',
      table: 'attributions' as const,
      rows: 1,
      date: '2026-01-01',
      hour: '00',
    };
    mkdirSync(join(d, 'attributions/date=2026-01-01/hour=00'), { recursive: true });
    writeFileSync(join(d, f.path), 'x');
    writeCommit(d, commit(1, [f]));
    // Debris of a crash: a data file of commit 2 and its temp commit, never renamed.
    const orphan = 'attributions/date=2026-01-01/hour=00/part-00000002-0.parquet';
    writeFileSync(join(d, orphan), 'y');
    writeFileSync(join(d, '_commits', '.00000002.json.tmp'), '{');
    expect(readCommits(d).map((c) => c.seq)).toEqual([1]);
    const removed = removeUncommitted(d, readCommits(d));
    expect(removed.sort()).toEqual(['_commits/.00000002.json.tmp', orphan]);
    expect(existsSync(join(d, f.path))).toBe(true);
  });

  it('refuses a gap in the log', () => {
    const d = lake();
    writeCommit(d, commit(1, []));
    writeCommit(d, commit(3, []));
    expect(() => readCommits(d)).toThrow(/gap/);
  });

  it('partitions by UTC date and hour', () => {
    expect(hourOf(Date.UTC(2026, 0, 31, 7, 59, 59))).toEqual({ date: '2026-01-31', hour: '07' });
  });

  it('analytics reads only committed files and reports duplicates', async () => {
    const d = lake();
    const a = 'attributions/date=2026-01-01/hour=00/part-00000001-0.parquet';
    const b = 'attributions/date=2026-01-01/hour=00/part-00000002-0.parquet';
    const orphan = 'attributions/date=2026-01-01/hour=00/part-00000003-0.parquet';
    await parquet(d, a, ['c1:linear:t1', 'c2:linear:t1']);
    await parquet(d, b, ['c3:linear:t1']);
    await parquet(d, orphan, ['c1:linear:t1']);
    const file = (path: string, rows: number) => ({
      path,
      table: 'attributions' as const,
      rows,
      date: '2026-01-01',
      hour: '00',
    });
    writeCommit(d, commit(1, [file(a, 2)]));
    writeCommit(d, commit(2, [file(b, 1)]));
    let r = await lakeReport(d);
    expect(r.exactlyOnce.attributions).toEqual({ rows: 3, distinct: 3, duplicates: [] });
    expect(r.exactlyOnce.valid).toBe(true);
    expect(r.revenue).toEqual([
      { model: 'linear', channel: 'search', campaign: 'c1', currency: 'USD', conversions: 3, revenue_minor: 300 },
    ]);
    expect(r.topPaths).toEqual([{ path: 'search', conversions: 3, revenue_minor: 300 }]);
    // Naming the orphan in a commit makes the duplicate visible.
    writeCommit(d, commit(3, [file(orphan, 1)]));
    r = await lakeReport(d);
    expect(r.exactlyOnce.attributions.duplicates).toEqual([{ id: 'c1:linear:t1', count: 2 }]);
    expect(r.exactlyOnce.valid).toBe(false);
  });
});

describe('chunkBySize', () => {
  it('keeps order and stays under the limit', () => {
    const msgs = Array.from({ length: 100 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.alloc(1000) }));
    const chunks = chunkBySize(msgs, 10_000);
    expect(chunks.flat()).toEqual(msgs);
    expect(chunks.length).toBeGreaterThan(9);
    for (const c of chunks)
      expect(c.reduce((s, m) => s + m.value.length + m.key.length + 70, 0)).toBeLessThanOrEqual(10_000);
  });
});
