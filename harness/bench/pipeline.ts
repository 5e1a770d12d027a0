/**
 * `streamproof bench pipeline`: a short saturation probe of the reference pipeline's exactly-once path (attributor
 * reading the input topic through Toxiproxy, writing attributions in Kafka transactions), beside the raw produce
 * rate of the same machine. It runs reference-pipeline/bench.ts by its command (reference-bench.ts) at one offered
 * rate above what one attributor keeps up with on a 2-core machine, for a few seconds, lake sink off; the full table
 * (rates x attributors, lake-visible latency, profiles) stays `npx tsx harness/bench/reference-bench.ts`.
 */
import type { StartedStack } from '../stack/stack.ts';
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
  loadavgBefore: number[];
  loadavgAfter: number[];
}

export interface PipelineBench {
  /** Input events/s the attributor committed through (events / first intended send to last conversion's output). */
  exactlyOnceRecordsPerSec: number;
  offeredPerSec: number;
  seconds: number;
  events: number;
  /** Output records read twice (read_committed): must be 0. */
  duplicatedRecords: number;
  /** Conversions whose attribution was seen, of those sent. */
  conversions: { sent: number; observed: number };
  latencyMs: BenchPercentiles;
  attributors: number;
  partitions: number;
  /** Our producer's rate in the same bench (records/s), when `producer` ran; the ratio pipeline / raw. */
  rawProduceRecordsPerSec: number | null;
  ratioToRawProduce: number | null;
  loadavgBefore: number[];
  loadavgAfter: number[];
}

export async function benchPipeline(
  stack: StartedStack,
  o: { seconds: number; rate: number; rawProduceRecordsPerSec: number | null },
): Promise<PipelineBench> {
  if (!stack.registryUrl) throw new Error('bench pipeline needs the schema registry: a stack started with it');
  const out = await runReferenceBench(stack, [
    ...['--rates', String(o.rate), '--seconds', String(o.seconds), '--attributors', '1', '--partitions', '4'],
    ...['--seed', '1', '--no-lake', '--json'],
  ]);
  const p = (JSON.parse(out) as { points: BenchPoint[] }).points[0];
  if (!p) throw new Error(`the reference bench printed no point: ${out.slice(0, 500)}`);
  const raw = o.rawProduceRecordsPerSec;
  return {
    exactlyOnceRecordsPerSec: p.processedPerSec,
    offeredPerSec: p.offeredPerSec,
    seconds: p.seconds,
    events: p.events,
    duplicatedRecords: p.duplicatedRecords,
    conversions: { sent: p.conversions, observed: p.observedConversions },
    latencyMs: p.latencyMs,
    attributors: p.attributors,
    partitions: p.partitions,
    rawProduceRecordsPerSec: raw,
    ratioToRawProduce: raw === null || raw <= 0 ? null : Math.round((p.processedPerSec / raw) * 1000) / 1000,
    loadavgBefore: p.loadavgBefore,
    loadavgAfter: p.loadavgAfter,
  };
}
