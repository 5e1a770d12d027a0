/**
 * The harness's lake reader against the reference pipeline's real lake sink on a real stack: the committed rows are
 * exactly the model's records (read by `readLake` through `referenceLakeOutput()`), the lake analytics equal the
 * model's aggregates, and the debris of a sink killed between its files and its commit is reported and ignored.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLake, referenceLakeOutput } from '../harness/contracts/lake.ts';
import { checkLakeAnalytics } from '../harness/contracts/lake-analytics.ts';
import { startStack } from '../harness/stack/stack.ts';
import { attribute } from '../reference-pipeline/model/index.ts';
import { ctx, postEvents, reference, traffic, waitLake, waitMetric } from './reference-helpers.ts';

beforeAll(async () => {
  ctx.stack = await startStack({ brokers: 1 });
});

afterAll(async () => {
  await ctx.stack?.stop();
  for (const d of ctx.dirs) rmSync(d, { recursive: true, force: true });
});

describe('the reference lake, read by the harness', () => {
  it('committed rows = the model, analytics = the model; a killed commit leaves debris, reported and ignored', async () => {
    const events = traffic(21, 2000, 100, 4);
    const expected = attribute(events).records;
    await using ref = await reference({
      componentEnv: { lake: { STREAMPROOF_LAKE_COMMIT_DELAY_MS: '1500', STREAMPROOF_LAKE_FLUSH_MS: '300' } },
    });
    const lake = ref.lake!;
    const started = Date.now();
    await postEvents(ref, events.slice(0, 1200));
    await waitMetric(
      () => lake.metrics(),
      'lake_files_pending_commit',
      (v) => v > 0,
    );
    await lake.kill();
    // The whole lake (both tables): the flush the kill interrupted may hold only `events` rows.
    const { table: _, ...wholeLake } = referenceLakeOutput();
    const torn = await readLake(wholeLake, ref.lakeDir);
    expect(torn.problems.map((p) => p.kind)).toEqual(['debris']);
    const before = await checkLakeAnalytics(ref.lakeDir, expected);
    expect(before.valid).toBe(false);
    expect(before.anomalyTypes).toEqual(['mismatch']);

    await postEvents(ref, events.slice(1200));
    await lake.start();
    await waitLake(ref.lakeDir, expected.length, events.length);
    const read = await readLake(referenceLakeOutput(), ref.lakeDir);
    // The restarted sink deleted the debris; its own next commit may be on its way (files not yet named).
    expect(read.problems.filter((p) => p.kind !== 'debris')).toEqual([]);
    expect(read.rowCount).toBe(expected.length);
    expect(new Set(read.rows.map((r) => r.row!.record_id))).toEqual(new Set(expected.map((r) => r.record_id)));
    for (const r of read.rows) {
      expect(r.key).toBe(r.row!.user_id);
      expect(r.time).toBeGreaterThanOrEqual(started);
      expect(r.time).toBeLessThanOrEqual(Date.now());
    }
    expect(read.commits.length).toBeGreaterThanOrEqual(1);
    const after = await checkLakeAnalytics(ref.lakeDir, expected, { drainComplete: true });
    expect(after).toMatchObject({ valid: true, anomalyTypes: [], mismatches: [] });
    expect(after.counts.compared).toBeGreaterThan(10);
  });
});
