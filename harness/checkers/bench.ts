/**
 * Benchmark of the exactly-once check: builds a 10M-event history (8 producers; 0.1% of sends unknown, half of
 * them seen; a few lost and duplicated so the example path runs) and times `checkExactlyOnce` on it.
 * Target: >= 5M events/s. Also reports the ingestion rate of `History.record` on 1M records, for context.
 *
 *   npx tsx harness/checkers/bench.ts [--json] [--events N]
 */

import { performance } from 'node:perf_hooks';
import { formatEventId, History, type HistoryRecord } from '../history/index.ts';
import { checkExactlyOnce } from './exactly-once.ts';

const TARGET_EVENTS_PER_SEC = 5_000_000;

interface BenchResult {
  readonly events: number;
  readonly producers: number;
  readonly buildMs: number;
  readonly checkMs: { readonly median: number; readonly min: number; readonly runs: number };
  readonly eventsPerSec: number;
  readonly targetEventsPerSec: number;
  readonly meetsTarget: boolean;
  readonly bitsetBytes: number;
  readonly bitsPerEvent: number;
  readonly recordIngestEventsPerSec: number;
  readonly counts: Record<string, number>;
  readonly node: string;
}

function buildHistory(events: number, producers: number): History {
  const h = new History();
  const perProducer = Math.ceil(events / producers);
  for (let p = 0; p < producers; p++) {
    const n = Math.min(perProducer, events - p * perProducer);
    for (let seq = 0; seq < n; seq++) {
      h.outcomes.offer(p, seq);
      // Deterministic sprinkle: 1 in 1000 unknown (every other one seen), 1 in 1M lost, 1 in 1M duplicated.
      if (seq % 1000 === 999) {
        h.outcomes.resolve(p, seq, 'unknown');
        if (seq % 2000 === 1999) h.observations.observe(p, seq);
        continue;
      }
      h.outcomes.resolve(p, seq, 'acked');
      if (seq % 1_000_000 === 500_000) continue;
      h.observations.observe(p, seq);
      if (seq % 1_000_000 === 600_000) h.observations.observe(p, seq);
    }
  }
  h.record({ kind: 'drain', time: 0, complete: true });
  return h;
}

function ingestRate(n: number): number {
  const records: HistoryRecord[] = [];
  for (let i = 0; i < n; i++) {
    const eventId = formatEventId(i & 7, i >>> 3);
    const t = 1_700_000_000_000 + i / 50;
    records.push({ kind: 'offered', time: t, eventId, userId: `u${i % 10_000}`, userSeq: i, sentAt: t });
    records.push({ kind: 'outcome', time: t + 3, eventId, outcome: 'acked', sentAt: t });
    records.push({
      kind: 'observed',
      time: t + 40,
      eventId,
      key: `u${i % 10_000}`,
      partition: (i % 10_000) % 12,
      offset: i,
      userSeq: i,
      sentAt: t,
    });
  }
  const h = new History();
  const t0 = performance.now();
  for (const r of records) h.record(r);
  return n / ((performance.now() - t0) / 1000);
}

function main(): void {
  const argv = process.argv.slice(2);
  const json = argv.includes('--json');
  const eventsArg = argv.indexOf('--events');
  const events = eventsArg >= 0 ? Number(argv[eventsArg + 1]) : 10_000_000;
  if (!Number.isInteger(events) || events <= 0) {
    process.stderr.write('usage: npx tsx harness/checkers/bench.ts [--json] [--events N]\n');
    process.exit(64);
  }
  const producers = 8;
  const b0 = performance.now();
  const history = buildHistory(events, producers);
  const buildMs = performance.now() - b0;

  const runs = 7;
  const times: number[] = [];
  let result = checkExactlyOnce(history);
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    result = checkExactlyOnce(history);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(runs / 2)]!;
  const eventsPerSec = events / (median / 1000);
  const out: BenchResult = {
    events,
    producers,
    buildMs: Math.round(buildMs),
    checkMs: { median: round(median), min: round(times[0]!), runs },
    eventsPerSec: Math.round(eventsPerSec),
    targetEventsPerSec: TARGET_EVENTS_PER_SEC,
    meetsTarget: eventsPerSec >= TARGET_EVENTS_PER_SEC,
    bitsetBytes: history.bitsetBytes,
    bitsPerEvent: round((history.bitsetBytes * 8) / events),
    recordIngestEventsPerSec: Math.round(ingestRate(1_000_000)),
    counts: { ...result.counts },
    node: process.version,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    const m = (n: number) => `${(n / 1e6).toFixed(1)}M`;
    const lines = [
      `exactly-once check of ${m(events)} events (${producers} producers) on node ${process.version}`,
      `  build:  ${out.buildMs} ms`,
      `  check:  median ${out.checkMs.median} ms, min ${out.checkMs.min} ms over ${runs} runs`,
      `  rate:   ${m(out.eventsPerSec)} events/s (target ${m(TARGET_EVENTS_PER_SEC)}/s: ${out.meetsTarget ? 'met' : 'NOT MET'})`,
      `  memory: ${(out.bitsetBytes / 2 ** 20).toFixed(1)} MiB of bitsets (${out.bitsPerEvent} bits/event allocated)`,
      `  ingest: History.record ${m(out.recordIngestEventsPerSec)} events/s (3 records per event)`,
      `  found:  lost ${result.counts.lost}, duplicated ${result.counts.duplicated}, unknown ${result.counts.unknown}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  if (!out.meetsTarget) process.exitCode = 1;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

main();
