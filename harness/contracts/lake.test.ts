import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildLake, type LakeRow } from '../../test/fixtures/lake/sinks.ts';
import { exactlyOnce } from '../checkers/exactly-once.ts';
import { lakeSlo } from '../checkers/lake-slo.ts';
import { History } from '../history/index.ts';
import { StreamproofError } from '../util/errors.ts';
import type { OutputRecord } from './contract.ts';
import { plainValue, readLake, referenceLakeOutput, validateLakeOutput } from './lake.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'lake-read-'));
  dirs.push(d);
  return d;
}

const spec = validateLakeOutput({ path: 'lake', format: 'parquet', table: 'events', keyColumn: 'user_id' }, 'out');

function ids(rows: readonly OutputRecord[]): string[] {
  return rows.map((r) => r.row!.event_id as string);
}
function kinds(problems: readonly { kind: string }[]): string[] {
  return problems.map((p) => p.kind).sort();
}

describe('validateLakeOutput', () => {
  it('keeps { path, format } valid as written and fills the defaults', () => {
    expect(validateLakeOutput({ path: 'x', format: 'parquet' }, 'output.lake')).toEqual({
      path: 'x',
      format: 'parquet',
      commits: 'log',
    });
    expect(
      validateLakeOutput(
        { path: '/abs', format: 'parquet', table: 'a/b', commits: 'none', keyColumn: 'k', latencyColumn: 't' },
        'output.lake',
      ),
    ).toEqual({ path: '/abs', format: 'parquet', table: 'a/b', commits: 'none', keyColumn: 'k', latencyColumn: 't' });
  });

  it.each([
    [{ format: 'parquet' }, /^output\.lake\.path: expected a non-empty string, got nothing/],
    [{ path: 'x', format: 'csv' }, /^output\.lake\.format: expected "parquet", got "csv"/],
    [{ path: 'x', format: 'parquet', table: '../up' }, /^output\.lake\.table: expected a sub-directory/],
    [{ path: 'x', format: 'parquet', table: '/abs' }, /^output\.lake\.table: /],
    [{ path: 'x', format: 'parquet', commits: 'all' }, /^output\.lake\.commits: expected one of "log", "none"/],
    [{ path: 'x', format: 'parquet', latencyColumn: '' }, /^output\.lake\.latencyColumn: /],
    [{ path: 'x', format: 'parquet', lantecyColumn: 't' }, /^output\.lake\.lantecyColumn: unknown field/],
    ['lake', /^output\.lake: expected an object/],
  ])('refuses %j (exit 64)', (raw, message) => {
    let err: unknown;
    try {
      validateLakeOutput(raw, 'output.lake');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StreamproofError);
    expect((err as StreamproofError).message).toMatch(message);
    expect((err as StreamproofError).exit).toBe(64);
  });

  it('names the reference lake', () => {
    expect(validateLakeOutput(referenceLakeOutput(), 'x')).toEqual(referenceLakeOutput());
  });
});

describe('readLake', () => {
  it('reads exactly the committed rows of a correct sink, with commit times and keys', async () => {
    const dir = tmp();
    const lake = await buildLake(join(dir, 'lake'), 'correct');
    const r = await readLake(spec, dir);
    expect(ids(r.rows)).toEqual(lake.visible.map((x) => x.event_id));
    expect(r.rowCount).toBe(15);
    expect(r.rows[0]).toMatchObject({ key: 'u0', partition: 0, offset: 0, time: lake.commitTimes[0] });
    expect(r.rows[0]!.value.length).toBe(0);
    expect(r.rows[7]).toMatchObject({ partition: 1, offset: 2, time: lake.commitTimes[1] });
    // BIGINT -> number, TIMESTAMP -> epoch ms, hive directory -> a column.
    const first: LakeRow = lake.visible[0]!;
    expect(r.rows[0]!.row).toMatchObject({
      event_id: first.event_id,
      user_seq: first.user_seq,
      sent_at: first.sent_at,
      visible_at: first.visible_at,
    });
    expect(r.files.map((f) => [f.path, f.commit, f.rows])).toEqual(lake.committed.map((p, i) => [p, i + 1, 5]));
    expect(r.commits.map((c) => c.seq)).toEqual([1, 2, 3]);
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'debris', count: 1, files: [lake.debris] })]);
  });

  it('takes the visibility time from latencyColumn when named', async () => {
    const dir = tmp();
    const lake = await buildLake(join(dir, 'lake'), 'correct');
    const r = await readLake({ ...spec, latencyColumn: 'visible_at' }, dir);
    expect(r.rows.map((x) => x.time)).toEqual(lake.visible.map((x) => x.visible_at));
    const bad = await readLake({ ...spec, latencyColumn: 'user_id' }, dir);
    expect(bad.rows[0]!.time).toBe(lake.commitTimes[0]);
    expect(bad.problems.find((p) => p.kind === 'latency-value')).toMatchObject({ count: 15 });
  });

  it('reads a file named by two commits twice and says so', async () => {
    const dir = tmp();
    const lake = await buildLake(join(dir, 'lake'), 'double-commit');
    const r = await readLake(spec, dir);
    expect(r.rowCount).toBe(20);
    expect(ids(r.rows).sort()).toEqual(lake.visible.map((x) => x.event_id).sort());
    const twice = r.rows.filter((x) => x.row!.event_id === '0-5');
    expect(twice.map((x) => [x.partition, x.offset])).toEqual([
      [1, 0],
      [2, 0],
    ]);
    expect(r.problems.find((p) => p.kind === 'double-commit')).toMatchObject({
      file: lake.committed[1],
      commits: [2, 3],
    });
  });

  it('reports a commit naming a file that never landed; its rows are missing', async () => {
    const dir = tmp();
    const lake = await buildLake(join(dir, 'lake'), 'missing-file');
    const r = await readLake(spec, dir);
    expect(ids(r.rows)).toEqual(lake.visible.map((x) => x.event_id));
    expect(r.rowCount).toBe(10);
    expect(kinds(r.problems)).toEqual(['debris', 'missing-file']);
    expect(r.problems.find((p) => p.kind === 'missing-file')).toMatchObject({ commit: 2 });
  });

  it('feeds the checkers: lost and duplicated rows, and lake latency', async () => {
    for (const [kind, lost, duplicated] of [
      ['correct', 0, 0],
      ['double-commit', 0, 5],
      ['missing-file', 5, 0],
    ] as const) {
      const dir = tmp();
      const lake = await buildLake(join(dir, 'lake'), kind);
      const h = new History();
      for (const e of lake.written) {
        const id = e.event_id;
        h.record({
          kind: 'offered',
          time: e.sent_at,
          eventId: id,
          userId: e.user_id,
          userSeq: e.user_seq,
          sentAt: e.sent_at,
        });
        h.record({ kind: 'outcome', time: e.sent_at + 1, eventId: id, outcome: 'acked', sentAt: e.sent_at });
      }
      h.record({ kind: 'drain', time: Date.now(), complete: true });
      await readLake({ ...spec, latencyColumn: 'visible_at' }, dir, {
        onRows: (rows) => {
          for (const r of rows) {
            h.record({
              kind: 'observed',
              time: r.time,
              eventId: r.row!.event_id as string,
              key: r.key,
              partition: r.partition,
              offset: r.offset,
              userSeq: r.row!.user_seq as number,
              sentAt: r.row!.sent_at as number,
            });
          }
        },
      });
      const ex = exactlyOnce().check(h);
      expect([kind, ex.counts.lost, ex.counts.duplicated]).toEqual([kind, lost, duplicated]);
      expect(ex.valid).toBe(lost + duplicated === 0);
      const s = lakeSlo({ lake_latency: ['max<1200ms'] }).check(h);
      expect(s.thresholds[0]!.observed).toBeGreaterThanOrEqual(1000);
      expect(s.valid).toBe(true);
    }
  });

  it('with "commits": "none" reads every file, debris included', async () => {
    const dir = tmp();
    await buildLake(join(dir, 'lake'), 'correct');
    const r = await readLake({ ...spec, commits: 'none' }, dir);
    expect(r.rowCount).toBe(20);
    expect(r.commits).toEqual([]);
    expect(r.files.every((f) => f.commit === null && f.time > 0)).toBe(true);
    expect(r.problems).toEqual([]);
  });

  it('reports a gap, a malformed commit, an unreadable file and a wrong row count', async () => {
    const dir = tmp();
    const root = join(dir, 'lake');
    await buildLake(root, 'correct');
    unlinkSync(join(root, '_commits', '00000002.json'));
    writeFileSync(join(root, '_commits', '00000004.json'), '{"files": ');
    writeFileSync(join(root, 'events', 'torn.parquet'), 'PAR1 half a file');
    writeFileSync(
      join(root, '_commits', '00000005.json'),
      JSON.stringify({
        files: ['events/torn.parquet', { path: './events/date=2026-01-31/part-00000003.parquet', rows: 9 }],
      }),
    );
    const r = await readLake(spec, dir);
    expect(kinds(r.problems)).toEqual([
      'commit-gap',
      'debris',
      'double-commit',
      'malformed-commit',
      'row-count',
      'unreadable-file',
    ]);
    expect(r.problems.find((p) => p.kind === 'commit-gap')).toMatchObject({ commit: 3 });
    expect(r.problems.find((p) => p.kind === 'unreadable-file')).toMatchObject({ file: 'events/torn.parquet' });
    expect(r.problems.find((p) => p.kind === 'debris')).toMatchObject({ count: 2 });
    expect(r.rowCount).toBe(15); // commit 1 (5) + commit 3 (5) + the same file again in commit 5 (5)
    expect(r.files.find((f) => f.path === 'events/torn.parquet')?.rows).toBe(0);
  });

  it('reads an absent lake as empty', async () => {
    const r = await readLake(spec, tmp());
    expect([r.rowCount, r.files, r.commits, r.problems]).toEqual([0, [], [], []]);
  });
});

describe('plainValue', () => {
  it('turns DuckDB values into plain data', () => {
    expect(plainValue(12n)).toBe(12);
    expect(plainValue(2n ** 60n)).toBe('1152921504606846976');
    expect(plainValue(new Date(5))).toBe(5);
    expect(plainValue({ a: [1n, new Date(1)], b: null })).toEqual({ a: [1, 1], b: null });
    expect(plainValue('x')).toBe('x');
  });
});
