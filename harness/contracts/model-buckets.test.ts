import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Event } from '../../generators/event.ts';
import { createBulkGenerator } from '../../generators/index.ts';
import { attribute } from '../../reference-pipeline/model/index.ts';
import stepCount from '../../test/fixtures/models/step-count.ts';
import { landed, rec } from '../../test/fixtures/models/support.ts';
import { checkLatency, type ModelResult } from '../checkers/index.ts';
import { History } from '../history/index.ts';
import { attributionModel } from './attribution.ts';
import type { ContractRun, OutputRecord } from './contract.ts';
import { createModelContractFrom } from './model.ts';
import type { PipelineModel } from './model-api.ts';
import { Buckets, bucketOf } from './model-buckets.ts';

function events(n: number, seed: number): Event[] {
  const g = createBulkGenerator({ users: 40, seed });
  const b = g.nextBatch(n);
  return Array.from({ length: b.count }, (_, i) => b.event(i));
}

/** Outputs made wrong on purpose: every 7th dropped, every 11th doubled, every 13th with another value, one made up. */
function damaged(
  outputs: OutputRecord[],
  wrong: (r: OutputRecord) => OutputRecord,
  madeUp: OutputRecord,
): OutputRecord[] {
  const out: OutputRecord[] = [];
  outputs.forEach((r, i) => {
    if (i % 7 === 3) return;
    out.push(i % 13 === 5 ? wrong(r) : r);
    if (i % 11 === 2) out.push(r);
  });
  out.push(madeUp);
  return out;
}

async function judgeBoth<V>(m: PipelineModel<unknown, V>, outputs: OutputRecord[], input: Event[], sourced = false) {
  const run = async (outputsInMemory: number | undefined) => {
    const c: ContractRun = createModelContractFrom(m, {
      name: 'm',
      keyAffinity: true,
      outputsInMemory,
      ...(sourced ? { sourceOf: (x, byId) => byId((x.value as { conversion_id: string }).conversion_id) } : {}),
    });
    for (const r of outputs) c.decode(r);
    const history = new History();
    const landedInput = landed(input);
    await c.finish({ history, input: async () => landedInput, drainComplete: true, committed: {}, outDir: tmpdir() });
    const result = c.checkers()[0]!.check(history) as ModelResult;
    const full = c.anomalies(history, { results: {} } as never) as Record<string, unknown[]>;
    const e2e = checkLatency(history).e2e;
    return { result, full, e2e: e2e?.count ?? 0, latency: e2e, violations: history.order.violationCount };
  };
  return { memory: await run(undefined), buckets: await run(0) };
}

const sorted = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();

describe('model contract, judged out of memory (bucket files by key)', () => {
  it('bucketOf is stable and spreads keys; a bucket reads back in the order added, across flushes', () => {
    expect(bucketOf('u0000001', 128)).toBe(bucketOf('u0000001', 128));
    expect(new Set(Array.from({ length: 1000 }, (_, i) => bucketOf(`k${i}`, 16))).size).toBe(16);
    const dir = join(tmpdir(), `streamproof-buckets-test-${process.pid}`);
    const b = new Buckets<[string, bigint]>(dir, 4, 3);
    for (let i = 0; i < 20; i++) b.add(`k${i % 5}`, [`k${i % 5}`, BigInt(i)]);
    const all = [0, 1, 2, 3].flatMap((i) => b.read(i));
    expect(all).toHaveLength(20);
    for (const k of ['k0', 'k1', 'k2', 'k3', 'k4']) {
      const mine = all.filter(([x]) => x === k).map(([, n]) => n);
      expect(mine).toEqual([...mine].sort((x, y) => (x < y ? -1 : 1)));
      expect(typeof mine[0]).toBe('bigint');
    }
    b.dispose();
    expect(existsSync(dir)).toBe(false);
  });

  it('attribution (once, final with sourceOf): the same verdict, counts, anomalies and latency as in memory', async () => {
    const input = events(3000, 7);
    const records = attribute(input).records;
    expect(records.length).toBeGreaterThan(500);
    const outputs = records.map((r, i) => rec(r.user_id, JSON.stringify(r), 9000 + i));
    const wrong = (r: OutputRecord) => {
      const v = JSON.parse(r.value.toString('utf8'));
      return rec(r.key, JSON.stringify({ ...v, credit: v.credit + 0.5 }), 9000);
    };
    const before = readdirSync(tmpdir()).filter((d) => d.startsWith('streamproof-judge-')).length;
    for (const outs of [
      outputs,
      damaged(outputs, wrong, rec('u0000001', JSON.stringify({ ...records[0], record_id: 'made-up' }), 9000)),
    ]) {
      const { memory, buckets } = await judgeBoth(
        attributionModel as PipelineModel<unknown, unknown>,
        outs,
        input,
        true,
      );
      expect(buckets.result.valid).toBe(memory.result.valid);
      expect(buckets.result.anomalyTypes).toEqual(memory.result.anomalyTypes);
      expect(buckets.result.counts).toEqual(memory.result.counts);
      expect(buckets.e2e).toBe(memory.e2e);
      expect(buckets.e2e).toBeGreaterThan(0);
      // Sightings: each conversion's first correct record in reading order, recorded in that order (per-user order).
      expect(buckets.latency).toEqual(memory.latency);
      expect(buckets.violations).toBe(memory.violations);
      expect(memory.violations).toBe(0);
      for (const kind of ['lost', 'duplicated', 'unexpected', 'mismatch'])
        expect(sorted(buckets.full[kind]!)).toEqual(sorted(memory.full[kind]!));
      expect(buckets.result.notes?.at(-1)).toMatch(/judged out of memory: \d+ outputs in 128 buckets/);
    }
    const { memory } = await judgeBoth(
      attributionModel as PipelineModel<unknown, unknown>,
      damaged(outputs, wrong, rec('u0000001', JSON.stringify({ ...records[0], record_id: 'made-up' }), 9000)),
      input,
      true,
    );
    expect(memory.result.anomalyTypes).toEqual(['lost', 'duplicated', 'unexpected', 'mismatch']);
    expect(readdirSync(tmpdir()).filter((d) => d.startsWith('streamproof-judge-')).length).toBe(before);
  });

  it('a step model under sequence: the same result and latency samples from the events the outputs came from', async () => {
    const input = events(2000, 3);
    const state = stepCount.init!();
    const outputs = input.flatMap((e) => stepCount.step!(state, e).map((o) => rec(o.key, String(o.value), 7000)));
    expect(outputs.length).toBeGreaterThan(100);
    for (const outs of [outputs, damaged(outputs, (r) => rec(r.key, '999', 7000), rec('nobody', '1', 7000))]) {
      const { memory, buckets } = await judgeBoth(stepCount as PipelineModel<unknown, unknown>, outs, input);
      expect(buckets.result.valid).toBe(memory.result.valid);
      expect(buckets.result.counts).toEqual(memory.result.counts);
      expect(buckets.e2e).toBe(memory.e2e);
      expect(buckets.latency).toEqual(memory.latency);
      expect(buckets.violations).toBe(memory.violations);
      for (const kind of ['lost', 'duplicated', 'unexpected', 'mismatch'])
        expect(sorted(buckets.full[kind]!)).toEqual(sorted(memory.full[kind]!));
    }
  });
});
