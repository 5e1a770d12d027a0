/**
 * What a load reports: the pacing engine's counts and latencies (`EngineSummary`), and the Kafka and HTTP loads'
 * summaries built on them (result.json's `load`), plus the histogram helpers they share.
 */
import type * as hdr from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** How late offers were relative to their intended time (the budget or a starved loop delays them). */
export interface ScheduleLag {
  maxMs: number;
  p99Ms: number;
  lateOffers: number;
  lateOfferMs: number;
}

/** The pacing engine's own summary: every load's, whatever its transport. */
export interface EngineSummary {
  offered: number;
  acked: number;
  failed: number;
  unknown: number;
  /** Events/s the schedule asked for, averaged over its duration. */
  targetRate: number;
  /** Events/s actually offered: offered / offering window (start to the last offer, at least the schedule). */
  offeredRate: number;
  /** Events the schedule held in its duration (or up to stop()). */
  scheduled: number;
  scheduleLag: ScheduleLag;
  /** Ack time - intended send time of acked events. */
  ackLatency: LatencySummary | null;
  /**
   * Ack time - offer time of acked events: the producer's own latency, without the schedule lag (what Kafka's
   * ProducerPerformance reports, from send() to its callback). Equals ackLatency when nothing is offered late.
   */
  ackFromOfferLatency: LatencySummary | null;
  /** Highest number of offered-but-unresolved events. */
  inFlightMax: number;
  /** Pacing passes on which the in-flight budget stopped offering. */
  budgetBlockedTicks: number;
  /** Requests sent, and the mean events per request. */
  requests: number;
  meanBatch: number;
  /** Lane sessions replaced after an error or timeout (Kafka producer sessions). */
  producerResets: number;
  /** Schedule start (ms epoch) and the time the summary was made; durationMs = end - start. */
  startedAt: number;
  endedAt: number;
  durationMs: number;
  /** `completed`: the schedule ran to its end; `stopped`: stop() or the signal cut it short. */
  ending: 'completed' | 'stopped';
  /** False when the drain timed out with requests still in flight (they were recorded unknown). */
  drainComplete: boolean;
}

/** The Kafka load's summary. */
export interface LoadSummary extends EngineSummary {
  topic: string;
  partitions: number;
  /** Producers actually used: min(producers, partitions). */
  producers: number;
  producerIds: number[];
}

/** The HTTP load's summary. `sentAt` of an event is its request's intended time. */
export interface HttpLoadSummary
  extends Omit<EngineSummary, 'ackFromOfferLatency' | 'budgetBlockedTicks' | 'producerResets'> {
  via: 'http';
  url: string;
  batch: number;
  connections: number;
  producerIds: number[];
  /** Events refused with 429 (recorded failed). */
  throttled: number;
  /** Events the collector rejected one by one (schema, rules; recorded failed, sent to its DLQ). */
  rejected: number;
  /** Responses by HTTP status; `none` = no response. */
  statuses: Record<string, number>;
  /** Per request with a response: response time - intended time. */
  requestLatency: LatencySummary | null;
  /** Per request with a response: response time - time written (what a closed-loop tool reports). */
  serviceTime: LatencySummary | null;
}

/** Records `time - from` (µs, >= 0) into a histogram, one entry per run of equal `from`. */
export class RunRecorder {
  #from = Number.NaN;
  #count = 0;
  constructor(
    readonly h: hdr.Histogram,
    readonly time: number,
  ) {}
  add(from: number): void {
    if (from === this.#from) {
      this.#count++;
      return;
    }
    this.flush();
    this.#from = from;
    this.#count = 1;
  }
  flush(): void {
    if (this.#count === 0) return;
    const l = this.time - this.#from;
    this.h.recordValueWithCount(l > 0 ? Math.round(l * 1000) : 0, this.#count);
    this.#count = 0;
  }
}

/** p50/p95/p99/max in ms of a histogram of microseconds; null when empty. */
export function latencyOf(h: hdr.Histogram): LatencySummary | null {
  if (h.totalCount === 0) return null;
  return {
    count: h.totalCount,
    p50Ms: round3(h.getValueAtPercentile(50) / 1000),
    p95Ms: round3(h.getValueAtPercentile(95) / 1000),
    p99Ms: round3(h.getValueAtPercentile(99) / 1000),
    maxMs: round3(h.maxValue / 1000),
  };
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
