/**
 * `streamproof bench pipeline`: a short saturation probe of the reference pipeline's exactly-once path (attributor
 * reading the input topic through Toxiproxy, writing attributions in Kafka transactions), beside the raw produce
 * rate of the same machine. It reuses reference-pipeline/bench.ts (`benchRate`) at one offered rate above what one
 * attributor keeps up with on a 2-core machine, for a few seconds, lake sink off; the full table (rates x
 * attributors, lake-visible latency, profiles) stays `npx tsx reference-pipeline/bench.ts`.
 */
import { type BenchPoint, benchRate } from '../../reference-pipeline/bench.ts';
import type { StartedStack } from '../stack/stack.ts';

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
  latencyMs: BenchPoint['latencyMs'];
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
  const p = await benchRate({
    bootstrap: stack.bootstrap,
    proxiedBootstrap: stack.proxiedBootstrap,
    registryUrl: stack.registryUrl,
    rate: o.rate,
    durationSec: o.seconds,
    attributors: 1,
    partitions: 4,
    seed: 1,
    lake: false,
  });
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
