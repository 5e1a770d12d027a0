/**
 * `streamproof bench pipeline`: the highest rate the reference pipeline sustains exactly once, found by a short search
 * over offered rates (rate-search.ts), with its latency at that rate and at half of it, beside the raw produce rate of
 * the same run and a Kafka Streams `exactly_once_v2` copy on the same broker at the same rates (peer.ts).
 *
 * Each probe runs reference-pipeline/bench.ts by its command (reference-bench.ts) for one rate: a fresh attributor
 * (one, 4 partitions, lake sink off) reading seeded Avro events produced at their intended send times (an open model:
 * a backlog shows as latency). A probe is *sustained* when the bench says it kept up (>= 95 % of the offer processed,
 * every conversion's attribution seen, no duplicate) and its topic-to-topic p95 stayed under `sustainedP95Ms`: a
 * point that keeps up only by letting latency grow for the whole probe is not a rate it can hold.
 * `rate` instead of a search: one probe at that rate (a quick check, what CI runs).
 */
import type { StartedStack } from '../stack/stack.ts';
import type { Progress } from '../util/progress.ts';
import { benchPeer, type PeerBench, peerMissing } from './peer.ts';
import { searchRate } from './rate-search.ts';
import { runReferenceBench } from './reference-bench.ts';

/** Latency percentiles of the reference bench, ms. */
export interface BenchPercentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** The fields of one point of the reference bench's `--json` output this bench reads. */
interface BenchPoint {
  offeredPerSec: number;
  seconds: number;
  attributors: number;
  partitions: number;
  events: number;
  conversions: number;
  observedConversions: number;
  processedPerSec: number;
  latencyMs: BenchPercentiles;
  duplicatedRecords: number;
  keptUp: boolean;
  loadavgBefore: number[];
  loadavgAfter: number[];
}

/** One probe of the reference pipeline. */
export interface PipelinePoint {
  offeredPerSec: number;
  /** Input events/s the attributor committed through (events / first intended send to last conversion's output). */
  processedPerSec: number;
  seconds: number;
  events: number;
  /** Kept up and topic-to-topic p95 under the sustained bound. */
  sustained: boolean;
  /** Output records read twice (read_committed): must be 0. */
  duplicatedRecords: number;
  /** Conversions whose attribution was seen, of those sent. */
  conversions: { sent: number; observed: number };
  /** Topic-to-topic: a conversion's first attribution record read read_committed, from its intended send. */
  latencyMs: BenchPercentiles;
  loadavgBefore: number[];
  loadavgAfter: number[];
}

export interface PipelineBench {
  /** The highest offered rate sustained (events/s), or null when none of the probes was. */
  maxSustainedPerSec: number | null;
  /** The probe at that rate, and one at half of it (its latency when not pushed). */
  atMax: PipelinePoint | null;
  atHalf: PipelinePoint | null;
  /** The lowest rate probed above the maximum that was not sustained (null: the search hit its ceiling). */
  firstNotSustained: PipelinePoint | null;
  /** Every probe of the search, in order. */
  probes: PipelinePoint[];
  sustainedP95Ms: number;
  attributors: number;
  partitions: number;
  /** Our producer's rate in the same bench (records/s); the ratio of the maximum sustained rate to it. */
  rawProduceRecordsPerSec: number | null;
  ratioToRawProduce: number | null;
  /** Kafka Streams exactly_once_v2 copy at the same rates, or why it did not run. */
  peer: PeerBench | { skipped: string };
}

export interface PipelineBenchOptions {
  /** Seconds per probe. */
  seconds: number;
  /** One probe at this rate instead of a search. */
  rate?: number;
  /** The search's first rate, ceiling and number of probes. */
  start: number;
  max: number;
  points: number;
  sustainedP95Ms: number;
  rawProduceRecordsPerSec: number | null;
  /** Run the Kafka Streams peer (skipped with a reason when it is not built). */
  peer: boolean;
  /** Where the peer's runs write their results. */
  outDir: string;
  progress: Progress;
}

const PARTITIONS = 4;

export async function benchPipeline(stack: StartedStack, o: PipelineBenchOptions): Promise<PipelineBench> {
  if (!stack.registryUrl) throw new Error('bench pipeline needs the schema registry: a stack started with it');
  const probe = async (rate: number): Promise<PipelinePoint> => {
    o.progress({ phase: 'bench', message: `pipeline: offering ${rate}/s for ${o.seconds} s (exactly-once)` });
    const out = await runReferenceBench(stack, [
      ...['--rates', String(rate), '--seconds', String(o.seconds), '--attributors', '1'],
      ...['--partitions', String(PARTITIONS), '--seed', '1', '--no-lake', '--json'],
    ]);
    const p = (JSON.parse(out) as { points: BenchPoint[] }).points[0];
    if (!p) throw new Error(`the reference bench printed no point: ${out.slice(0, 500)}`);
    const point: PipelinePoint = {
      offeredPerSec: p.offeredPerSec,
      processedPerSec: p.processedPerSec,
      seconds: p.seconds,
      events: p.events,
      sustained: p.keptUp && p.latencyMs.p95 <= o.sustainedP95Ms,
      duplicatedRecords: p.duplicatedRecords,
      conversions: { sent: p.conversions, observed: p.observedConversions },
      latencyMs: p.latencyMs,
      loadavgBefore: p.loadavgBefore,
      loadavgAfter: p.loadavgAfter,
    };
    o.progress({
      phase: 'bench',
      message: `pipeline: ${rate}/s → processed ${point.processedPerSec}/s, t2t p95 ${point.latencyMs.p95} ms: ${point.sustained ? 'sustained' : 'not sustained'}`,
    });
    return point;
  };
  let probes: PipelinePoint[];
  let best: PipelinePoint | null;
  let limit: PipelinePoint | null;
  if (o.rate !== undefined) {
    const p = await probe(o.rate);
    probes = [p];
    best = p.sustained ? p : null;
    limit = p.sustained ? null : p;
  } else {
    const s = await searchRate(async (rate) => {
      const point = await probe(rate);
      return { keptUp: point.sustained, point };
    }, o);
    probes = s.probes.map((x) => x.point);
    best = s.best?.point ?? null;
    limit = s.limit?.point ?? null;
  }
  const half = best === null ? null : await probe(Math.max(100, Math.round(best.offeredPerSec / 2)));
  if (half !== null) probes.push(half);
  const raw = o.rawProduceRecordsPerSec;
  const max = best?.offeredPerSec ?? null;
  let peer: PipelineBench['peer'];
  const missing = o.peer ? peerMissing() : 'not asked for (--no-peer)';
  if (missing !== null) peer = { skipped: missing };
  else {
    const rates = [...new Set([half?.offeredPerSec, max, limit?.offeredPerSec].filter((r) => r != null))] as number[];
    peer = await benchPeer(stack, {
      rates: rates.length > 0 ? rates : [probes[0]!.offeredPerSec],
      seconds: Math.max(5, o.seconds),
      partitions: PARTITIONS,
      sustainedP95Ms: o.sustainedP95Ms,
      outDir: o.outDir,
      progress: o.progress,
    });
  }
  return {
    maxSustainedPerSec: max,
    atMax: best,
    atHalf: half,
    firstNotSustained: limit,
    probes,
    sustainedP95Ms: o.sustainedP95Ms,
    attributors: 1,
    partitions: PARTITIONS,
    rawProduceRecordsPerSec: raw,
    ratioToRawProduce: raw === null || raw <= 0 || max === null ? null : Math.round((max / raw) * 1000) / 1000,
    peer,
  };
}
