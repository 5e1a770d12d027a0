/**
 * Merging load workers' results into one: their Histories (History.merge: bitsets unioned, HDR histograms added,
 * per-second series summed; exact) and their LoadSummaries.
 *
 * Summary fields merge as follows: counts and requests add; ack latency percentiles come from the merged HDR
 * histogram (exact); schedule lag max is the max; schedule lag p99 is the largest worker p99 (an upper bound: the
 * lag histograms stay in the workers), and so are ackFromOfferLatency's percentiles (each the largest worker's);
 * inFlightMax is the sum of the workers' maxima (an upper bound); offeredRate
 * is the sum of the workers' rates (they share one schedule window); `scheduled` and `targetRate` are the whole
 * run's (every worker computes them from the same plan); `completed` and `drainComplete` only if every worker's is.
 */
import { History, type HistoryJson, percentileMs } from '../history/index.ts';
import type { LatencySummary, LoadSummary } from '../load/index.ts';

export const WORKER_RESULT_FORMAT = 'streamproof.worker-result/1' as const;

export interface WorkerResult {
  format: typeof WORKER_RESULT_FORMAT;
  index: number;
  workerId: string;
  host: string;
  pid: number;
  lanes: number[];
  /** null when the load could not start (then `error` says why). */
  summary: LoadSummary | null;
  history: HistoryJson;
  error?: string;
}

export interface WorkerBrief {
  index: number;
  host: string;
  pid: number;
  lanes: number[];
  offered: number;
  acked: number;
  failed: number;
  unknown: number;
  offeredRate: number;
  scheduleLagMaxMs: number;
  ending: LoadSummary['ending'];
}

export interface MergedLoadSummary extends LoadSummary {
  workers: WorkerBrief[];
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Merges every worker's History into `into` and returns the run's summary. Results must all have a summary. */
export function mergeWorkerResults(results: readonly WorkerResult[], into: History): MergedLoadSummary {
  const sorted = [...results].sort((a, b) => a.index - b.index);
  const load = new History();
  for (const r of sorted) load.merge(History.fromJSON(r.history));
  into.merge(load);
  const sums = sorted.map((r) => {
    if (r.summary === null) throw new Error(`worker ${r.index} has no summary: ${r.error ?? 'no reason given'}`);
    return r.summary;
  });
  const first = sums[0]!;
  const sum = (f: (s: LoadSummary) => number) => sums.reduce((a, s) => a + f(s), 0);
  const max = (f: (s: LoadSummary) => number) => Math.max(...sums.map(f));
  const requests = sum((s) => s.requests);
  const records = sum((s) => s.meanBatch * s.requests);
  const ack = load.latency.ack;
  const startedAt = Math.min(...sums.map((s) => s.startedAt));
  const endedAt = max((s) => s.endedAt);
  const producerIds = [...new Set(sums.flatMap((s) => s.producerIds))].sort((a, b) => a - b);
  return {
    topic: first.topic,
    partitions: first.partitions,
    producers: producerIds.length,
    producerIds,
    offered: sum((s) => s.offered),
    acked: sum((s) => s.acked),
    failed: sum((s) => s.failed),
    unknown: sum((s) => s.unknown),
    targetRate: first.targetRate,
    offeredRate: round3(sum((s) => s.offeredRate)),
    scheduled: max((s) => s.scheduled),
    scheduleLag: {
      maxMs: max((s) => s.scheduleLag.maxMs),
      p99Ms: max((s) => s.scheduleLag.p99Ms),
      lateOffers: sum((s) => s.scheduleLag.lateOffers),
      lateOfferMs: first.scheduleLag.lateOfferMs,
    },
    ackLatency:
      ack.totalCount === 0
        ? null
        : {
            count: ack.totalCount,
            p50Ms: round3(percentileMs(ack, 50)!),
            p95Ms: round3(percentileMs(ack, 95)!),
            p99Ms: round3(percentileMs(ack, 99)!),
            maxMs: round3(ack.maxValue / 1000),
          },
    ackFromOfferLatency: upperBound(sums.map((s) => s.ackFromOfferLatency)),
    inFlightMax: sum((s) => s.inFlightMax),
    budgetBlockedTicks: sum((s) => s.budgetBlockedTicks),
    requests,
    meanBatch: requests === 0 ? 0 : round3(records / requests),
    producerResets: sum((s) => s.producerResets),
    startedAt,
    endedAt,
    durationMs: round3(endedAt - startedAt),
    ending: sums.every((s) => s.ending === 'completed') ? 'completed' : 'stopped',
    drainComplete: sums.every((s) => s.drainComplete),
    workers: sorted.map((r) => ({
      index: r.index,
      host: r.host,
      pid: r.pid,
      lanes: r.lanes,
      offered: r.summary!.offered,
      acked: r.summary!.acked,
      failed: r.summary!.failed,
      unknown: r.summary!.unknown,
      offeredRate: r.summary!.offeredRate,
      scheduleLagMaxMs: r.summary!.scheduleLag.maxMs,
      ending: r.summary!.ending,
    })),
  };
}

/** Counts added, every percentile the largest of the parts': an upper bound of the merged distribution's. */
function upperBound(parts: readonly (LatencySummary | null | undefined)[]): LatencySummary | null {
  const present = parts.filter((p): p is LatencySummary => p !== null && p !== undefined);
  if (present.length === 0) return null;
  const max = (f: (p: LatencySummary) => number) => Math.max(...present.map(f));
  return {
    count: present.reduce((a, p) => a + p.count, 0),
    p50Ms: max((p) => p.p50Ms),
    p95Ms: max((p) => p.p95Ms),
    p99Ms: max((p) => p.p99Ms),
    maxMs: max((p) => p.maxMs),
  };
}

/** Checks the shape of a decoded worker result (it crossed a process and a network boundary). */
export function checkWorkerResult(v: unknown, index: number): WorkerResult {
  const r = v as Partial<WorkerResult> | null;
  if (r === null || typeof r !== 'object' || r.format !== WORKER_RESULT_FORMAT) {
    throw new Error(`worker ${index}: result is not ${WORKER_RESULT_FORMAT}`);
  }
  if (r.index !== index) throw new Error(`worker ${index}: result says index ${String(r.index)}`);
  if (typeof r.history !== 'object' || r.history === null) throw new Error(`worker ${index}: result has no history`);
  return r as WorkerResult;
}
