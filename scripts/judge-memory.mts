/**
 * What judging the attribution contract costs in memory, stage by stage, without a stack: N events from the bulk
 * generator (the soak's seed), the reference model's records offered to a topic contract as JSON records and to a
 * lake contract as rows, then both contracts' `finish` and checkers over the same input, as a run judges them.
 * Heap after a full GC per stage (the B/event columns), and the process's peak resident memory.
 *
 *   node --expose-gc --max-old-space-size=12000 --import tsx scripts/judge-memory.mts [events=500000] [users=50000] [outputsInMemory]
 *
 * docs/checkers.md ("Memory of a model contract") has the numbers.
 */

import type { Event } from '../generators/event.ts';
import { createBulkGenerator } from '../generators/index.ts';
import type { ModelResult } from '../harness/checkers/model.ts';
import { createAttributionContract, expectedAttributionRecords } from '../harness/contracts/attribution.ts';
import type { InputRecord, OutputRecord } from '../harness/contracts/contract.ts';
import { expectedAggregates } from '../harness/contracts/lake-analytics.ts';
import { History } from '../harness/history/index.ts';
import { attribute } from '../reference-pipeline/model/index.ts';

const n = Number(process.argv[2] ?? 200_000);
const users = Number(process.argv[3] ?? 50_000);
const outputsInMemory = process.argv[4] === undefined ? undefined : Number(process.argv[4]);
const gc = (globalThis as { gc?: () => void }).gc!;
const mb = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed / 1e6, ext: (m.external + m.arrayBuffers) / 1e6 };
};
let last = mb();
const base = last;
const stage = (name: string) => {
  const now = mb();
  console.log(
    `${name.padEnd(28)} heap +${(now.heap - last.heap).toFixed(0).padStart(6)} MB  (${(((now.heap - last.heap) * 1e6) / n).toFixed(0)} B/event)  total ${(now.heap - base.heap).toFixed(0)} MB, ext ${(now.ext - base.ext).toFixed(0)} MB`,
  );
  last = now;
};

const g = createBulkGenerator({ users, seed: 2027 });
const events: Event[] = [];
const batch = 10_000;
for (let done = 0; done < n; done += batch) {
  const b = g.nextBatch(Math.min(batch, n - done));
  for (let i = 0; i < b.count; i++) events.push(b.event(i));
}
stage('events');
const parts = 6;
const next = new Array<number>(parts).fill(0);
const input: InputRecord[] = events.map((e) => {
  const partition = Number(e.user_id.slice(1)) % parts;
  const offset = next[partition]!++;
  return { key: e.user_id, value: Buffer.alloc(0), partition, offset, event: e };
});
stage('input records');
const records = attribute(events).records;
console.log(`  ${records.length} attribution records (${(records.length / n).toFixed(2)} per event)`);
stage('attribute()');
const topic = createAttributionContract({ outputsInMemory });
const lake = createAttributionContract({ outputsInMemory });
let off = 0;
for (const r of records) {
  const v = Buffer.from(JSON.stringify(r));
  const o: OutputRecord = { key: r.user_id, value: v, headers: new Map(), partition: 0, offset: off++, time: 0 };
  topic.decode(o);
}
stage('topic decode (kept)');
for (const r of records) {
  const o: OutputRecord = {
    key: r.user_id,
    value: Buffer.alloc(0),
    headers: new Map(),
    partition: 0,
    offset: off++,
    time: 0,
    row: { ...r },
  };
  lake.decode(o);
}
stage('lake decode (kept)');
records.length = 0;
stage('records dropped');
const h1 = new History();
const h2 = new History();
const t0 = Date.now();
await topic.finish({ history: h1, input: async () => input, drainComplete: true, committed: {}, outDir: '/tmp' });
stage('topic finish');
await lake.finish({ history: h2, input: async () => input, drainComplete: true, committed: {}, outDir: '/tmp' });
stage('lake finish');
const r1 = topic.checkers()[0]!.check(h1) as ModelResult;
const r2 = lake.checkers()[0]!.check(h2) as ModelResult;
stage('checked');
const aggregates = expectedAggregates(expectedAttributionRecords(events));
stage('lake analytics (model side)');
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1e6).toFixed(2)} GB`);
console.log(
  `valid ${String(r1.valid)} / ${String(r2.valid)}, matched ${r1.counts.matched} / ${r2.counts.matched} of ${records.length === 0 ? r1.counts.expectedOutputs : records.length}, ${aggregates.revenue.size} revenue groups, ${((Date.now() - t0) / 1000).toFixed(1)} s judging`,
);
