/**
 * What the pacing engine counts and measures: offers, outcomes, in-flight events and bytes, requests, session
 * resets, the schedule lag and the ack latencies (HDR histograms of microseconds), and the summary and progress
 * fields made of them.
 */
import * as hdr from 'hdr-histogram-js';
import { type EngineSummary, latencyOf, round3 } from './summary.ts';

const hist = (digits: 2 | 3) =>
  hdr.build({ bitBucketSize: 32, numberOfSignificantValueDigits: digits, autoResize: true });

export class EngineMeter {
  offered = 0;
  acked = 0;
  failed = 0;
  unknown = 0;
  /** Offered, not resolved yet: events and their key + value bytes (the in-flight budget). */
  inFlight = 0;
  inFlightBytes = 0;
  inFlightMax = 0;
  blockedTicks = 0;
  requests = 0;
  requestRecords = 0;
  resets = 0;
  lateOffers = 0;
  maxLag = 0;
  lastOffer = 0;
  /** Schedule lag of offers; ack time - intended time and ack time - offer time of acked events. */
  readonly lag = hist(2);
  readonly ack = hist(3);
  readonly ackFromOffer = hist(3);

  constructor(readonly lateOfferMs: number) {}

  /** `n` events offered now (one offer: an event or a group) that were due at `sentAt`; returns the lag (ms). */
  offer(n: number, bytes: number, now: number, sentAt: number): number {
    this.offered += n;
    this.inFlight += n;
    this.inFlightBytes += bytes;
    if (this.inFlight > this.inFlightMax) this.inFlightMax = this.inFlight;
    const lag = now - sentAt;
    if (lag > this.maxLag) this.maxLag = lag;
    if (lag > this.lateOfferMs) this.lateOffers++;
    this.lastOffer = now;
    return lag;
  }

  /** The counters of a progress report. */
  progress(): Record<string, number> {
    return {
      offered: this.offered,
      acked: this.acked,
      failed: this.failed,
      unknown: this.unknown,
      inFlight: this.inFlight,
    };
  }

  summary(
    s: Pick<
      EngineSummary,
      'targetRate' | 'offeredRate' | 'scheduled' | 'startedAt' | 'endedAt' | 'ending' | 'drainComplete'
    >,
  ): EngineSummary {
    return {
      offered: this.offered,
      acked: this.acked,
      failed: this.failed,
      unknown: this.unknown,
      targetRate: s.targetRate,
      offeredRate: s.offeredRate,
      scheduled: s.scheduled,
      scheduleLag: {
        maxMs: round3(this.maxLag),
        p99Ms: this.lag.totalCount === 0 ? 0 : round3(this.lag.getValueAtPercentile(99) / 1000),
        lateOffers: this.lateOffers,
        lateOfferMs: this.lateOfferMs,
      },
      ackLatency: latencyOf(this.ack),
      ackFromOfferLatency: latencyOf(this.ackFromOffer),
      inFlightMax: this.inFlightMax,
      budgetBlockedTicks: this.blockedTicks,
      requests: this.requests,
      meanBatch: this.requests === 0 ? 0 : round3(this.requestRecords / this.requests),
      producerResets: this.resets,
      startedAt: s.startedAt,
      endedAt: s.endedAt,
      durationMs: round3(s.endedAt - s.startedAt),
      ending: s.ending,
      drainComplete: s.drainComplete,
    };
  }
}
