/**
 * `streamproof bench producer`: our load driver at its maximum rate against Kafka's ProducerPerformance, on the same
 * broker, the same partition count and the same record size, alternating (kafka, ours, ours, kafka, ...: the order
 * flips every repetition) so the shared machine's noise falls on both; the medians are compared.
 *
 * Ours is the real driver (harness/load/driver.ts: History with one offered + one outcome record per event, HDR
 * histograms, pacing) over the fast sender (fast-sender.ts), fed by the bulk generator's pre-encoded Avro records,
 * idempotent, acks=all, keyed by user (Kafka's murmur2 partitioner), each value zero-padded to the record size.
 * "Maximum rate": the schedule puts all N events at the start (an open model whose intended times are all due), so
 * offering is limited only by the in-flight budget, as ProducerPerformance's `send()` is by its buffer. Our latency is
 * ack time - offer time (ProducerPerformance's: callback time - send() time); the schedule lag is reported beside it.
 * Every run checks that the records are really in the topic: the sum of the end offsets of a fresh topic.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { History } from '../history/index.ts';
import { admin, ensureTopic } from '../kafka/clients.ts';
import { systemClock } from '../load/clock.ts';
import { LoadDriver, type LoadSummary } from '../load/driver.ts';
import { FastLaneSender } from '../load/fast-sender.ts';
import { type Compression, resolveLoadOptions } from '../load/options.ts';
import { type Progress, silent } from '../util/progress.ts';
import { type ProducerPerformanceResult, runProducerPerformance } from './producer-performance.ts';

export interface ProducerBenchOptions {
  bootstrap: string;
  classpath: string;
  records: number;
  recordSize: number;
  partitions: number;
  reps: number;
  /** Our lanes (one connection and idempotent producer each, each owning partitions p % lanes). Default 1. */
  producers?: number;
  /** Produce requests in flight per lane (the fast sender numbers them in order). Default 3. */
  inFlight?: number;
  compression?: Compression;
  seed?: number;
  progress?: Progress;
}

export interface ProducerSide {
  recordsPerSec: number;
  /** Values only (records x record size), 10^6 bytes/s. */
  mbPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Records per repetition, and what the topic holds after it (sum of end offsets), per repetition. */
  records: number;
  topicRecords: number[];
  /** Records/s of every repetition, in run order. */
  reps: number[];
}

export interface OursSide extends ProducerSide {
  sent: number;
  acked: number;
  failed: number;
  unknown: number;
  producers: number;
  inFlight: number;
  requests: number;
  meanBatch: number;
  /** Median of the repetitions' schedule lag p99 (how long the budget held events back). */
  scheduleLagP99Ms: number;
  /** CPU time of this process per event (µs), median. */
  cpuUsPerEvent: number;
  /** Partition batches the fast sender re-sent after a retriable broker code (all reps), and the last code. */
  retries: number;
  lastRetryCode: string | null;
  /** Messages of failed / unknown outcomes (all reps) and how many events had each; empty when all were acked. */
  errors: Record<string, number>;
}

export interface ProducerBench {
  ours: OursSide;
  kafka: ProducerSide & { props: Record<string, string | number | boolean>; java: string };
  /** ours.recordsPerSec / kafka.recordsPerSec. */
  ratio: number;
  recordSize: number;
  partitions: number;
  loadavg: number[][];
}

interface OursRep {
  summary: LoadSummary;
  errors: Map<string, number>;
  retries: number;
  lastRetryCode: string | undefined;
  seconds: number;
  topicRecords: number;
  cpuUs: number;
}

export async function benchProducer(o: ProducerBenchOptions): Promise<ProducerBench> {
  const progress = o.progress ?? silent;
  const oursReps: OursRep[] = [];
  const kafkaReps: (ProducerPerformanceResult & { topicRecords: number })[] = [];
  const loads: number[][] = [];
  for (let r = 0; r < o.reps; r++) {
    const order = r % 2 === 0 ? (['kafka', 'ours'] as const) : (['ours', 'kafka'] as const);
    for (const who of order) {
      const topic = `bench-${who}-${randomUUID().slice(0, 8)}`;
      await ensureTopic(o.bootstrap, topic, { partitions: o.partitions });
      loads.push(loadavg().map(round2));
      progress({ phase: 'bench', message: `producer rep ${r + 1}/${o.reps}: ${who}, ${o.records} records` });
      if (who === 'kafka') {
        const k = await runProducerPerformance({
          classpath: o.classpath,
          bootstrap: o.bootstrap,
          topic,
          records: o.records,
          recordSize: o.recordSize,
        });
        const topicRecords = await topicSize(o.bootstrap, topic, o.partitions);
        kafkaReps.push({ ...k, topicRecords });
        progress({ phase: 'bench', message: `  kafka: ${Math.round(k.recordsPerSec)} records/s, p99 ${k.p99Ms} ms` });
      } else {
        const rep = await runOurs(o, topic);
        oursReps.push(rep);
        const rate = rep.summary.acked / rep.seconds;
        progress({
          phase: 'bench',
          message: `  ours: ${Math.round(rate)} records/s, acked ${rep.summary.acked}/${rep.summary.offered}, p99 ${rep.summary.ackFromOfferLatency?.p99Ms ?? '-'} ms`,
        });
      }
    }
  }
  const kRates = kafkaReps.map((k) => k.recordsPerSec);
  const oRates = oursReps.map((x) => x.summary.acked / x.seconds);
  const kMid = medianIndex(kRates);
  const oMid = medianIndex(oRates);
  const km = kafkaReps[kMid]!;
  const om = oursReps[oMid]!;
  const ol = om.summary.ackFromOfferLatency;
  const oursRate = Math.round(oRates[oMid]!);
  const kafkaRate = Math.round(km.recordsPerSec);
  const sum = (f: (x: OursRep) => number) => oursReps.reduce((a, x) => a + f(x), 0);
  return {
    ours: {
      recordsPerSec: oursRate,
      mbPerSec: round2((oursRate * o.recordSize) / 1e6),
      p50Ms: ol?.p50Ms ?? Number.NaN,
      p95Ms: ol?.p95Ms ?? Number.NaN,
      p99Ms: ol?.p99Ms ?? Number.NaN,
      maxMs: ol?.maxMs ?? Number.NaN,
      records: o.records,
      topicRecords: oursReps.map((x) => x.topicRecords),
      reps: oRates.map(Math.round),
      sent: sum((x) => x.summary.offered),
      acked: sum((x) => x.summary.acked),
      failed: sum((x) => x.summary.failed),
      unknown: sum((x) => x.summary.unknown),
      producers: om.summary.producers,
      inFlight: o.inFlight ?? 3,
      requests: om.summary.requests,
      meanBatch: Math.round(om.summary.meanBatch),
      scheduleLagP99Ms: median(oursReps.map((x) => x.summary.scheduleLag.p99Ms)),
      cpuUsPerEvent: round2(median(oursReps.map((x) => x.cpuUs / Math.max(1, x.summary.offered)))),
      retries: sum((x) => x.retries),
      lastRetryCode: oursReps.findLast((x) => x.lastRetryCode !== undefined)?.lastRetryCode ?? null,
      errors: Object.fromEntries(
        oursReps.flatMap((x) => [...x.errors]).reduce((m, [k, v]) => m.set(k, (m.get(k) ?? 0) + v), new Map()),
      ),
    },
    kafka: {
      recordsPerSec: kafkaRate,
      mbPerSec: km.mbPerSec,
      p50Ms: km.p50Ms,
      p95Ms: km.p95Ms,
      p99Ms: km.p99Ms,
      maxMs: km.maxMs,
      records: o.records,
      topicRecords: kafkaReps.map((k) => k.topicRecords),
      reps: kRates.map(Math.round),
      props: {
        acks: 'all',
        'enable.idempotence': true,
        'linger.ms': 5,
        'batch.size': 65536,
        'compression.type': 'none',
      },
      java: km.java,
    },
    ratio: kafkaRate > 0 ? oursRate / kafkaRate : Number.NaN,
    recordSize: o.recordSize,
    partitions: o.partitions,
    loadavg: loads,
  };
}

/** Our producer alone, once, on a fresh topic: records/s acked (the raw produce rate other benches compare with). */
export async function oursOnce(o: Omit<ProducerBenchOptions, 'classpath' | 'reps'>): Promise<number> {
  const topic = `bench-ours-${randomUUID().slice(0, 8)}`;
  await ensureTopic(o.bootstrap, topic, { partitions: o.partitions });
  const rep = await runOurs({ ...o, classpath: '', reps: 1 }, topic);
  return Math.round(rep.summary.acked / rep.seconds);
}

async function runOurs(o: ProducerBenchOptions, topic: string): Promise<OursRep> {
  const real = new History();
  const errors = new Map<string, number>();
  // The History the driver writes, plus a tally of why events were not acked (reported, so a shortfall is explained).
  const history = {
    record(r: Parameters<History['record']>[0]) {
      if (r.kind === 'outcome' && r.outcome !== 'acked') {
        const k = `${r.outcome}: ${r.error ?? ''}`;
        errors.set(k, (errors.get(k) ?? 0) + 1);
      }
      real.record(r);
    },
  } as History;
  const producers = Math.min(o.producers ?? 1, o.partitions);
  // All N events due at the start: rate x duration = N exactly (the schedule's ith event is at floor(i*dur/N)).
  const durationMs = Math.max(1, Math.ceil(o.records / 1e6));
  const perRecord = o.recordSize + 8 + 8; // value, key, record framing
  const maxRequestRecords = Math.max(1, Math.floor(900_000 / perRecord));
  const cfg = resolveLoadOptions({
    bootstrap: o.bootstrap,
    topic,
    history,
    generator: { seed: o.seed ?? 1 },
    rate: (o.records * 1000) / durationMs,
    duration: durationMs,
    producers,
    compression: o.compression ?? 'none',
    maxRequestRecords,
    client: 'fast',
    maxInFlightRequests: o.inFlight ?? 3,
    // Requests in flight plus one full request per lane queued: the next one is ready when an ack comes back.
    maxInFlightRecords: maxRequestRecords * producers * ((o.inFlight ?? 3) + 1),
    acksTimeoutMs: 30_000,
  });
  const senders: FastLaneSender[] = [];
  try {
    for (let k = 0; k < producers; k++) {
      senders.push(
        new FastLaneSender({
          bootstrap: o.bootstrap,
          topic,
          clientId: `streamproof-bench-${k}`,
          idempotent: true,
          compression: cfg.compression,
          acksTimeoutMs: cfg.acksTimeoutMs,
          padValuesTo: o.recordSize,
        }),
      );
    }
    const parts = await Promise.all(senders.map((s) => s.warmUp()));
    if (parts[0] !== o.partitions) throw new Error(`topic ${topic}: ${parts[0]} partitions, expected ${o.partitions}`);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const driver = new LoadDriver(cfg, { history, clock: systemClock, partitions: o.partitions, senders });
    const summary = await driver.start().done;
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const topicRecords = await topicSize(o.bootstrap, topic, o.partitions);
    return {
      summary,
      errors,
      seconds,
      topicRecords,
      cpuUs: cpu.user + cpu.system,
      retries: senders.reduce((a, s) => a + s.retries, 0),
      lastRetryCode: senders.find((s) => s.lastRetryCode !== undefined)?.lastRetryCode,
    };
  } finally {
    await Promise.all(senders.map((s) => s.close()));
  }
}

/** Records in a fresh topic: the sum over its partitions of the high watermark. */
export async function topicSize(bootstrap: string, topic: string, partitions: number): Promise<number> {
  const a = admin(bootstrap, 'streamproof-bench-offsets');
  try {
    const res = await a.listOffsets({
      topics: [
        {
          name: topic,
          partitions: Array.from({ length: partitions }, (_, i) => ({ partitionIndex: i, timestamp: -1n })),
        },
      ],
    });
    let n = 0n;
    for (const t of res) for (const p of t.partitions) n += p.offset;
    return Number(n);
  } finally {
    await a.close().catch(() => {});
  }
}

function medianIndex(xs: number[]): number {
  const idx = xs.map((_, i) => i).sort((a, b) => xs[a]! - xs[b]!);
  return idx[Math.floor((idx.length - 1) / 2)]!;
}

function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
