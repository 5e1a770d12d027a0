/**
 * The open-model load driver, independent of any Kafka client: lanes (one per producer) offer the generator's events
 * at their intended send times and hand them to a `LaneSender`; every event gets one `offered` and exactly one
 * `outcome` record in the History.
 *
 * Model:
 * - **Schedule**: every lane runs the *same* generator stream (same seed, same send schedule, the whole rate) with its
 *   own producer id, and keeps the events whose key's partition p has `p % lanes === lane`. So each partition, and
 *   therefore each user, is written by exactly one producer (per-user order stays checkable: `user_seq` of a user is
 *   strictly increasing within one producer), the union of the lanes is exactly the one-producer stream, and the
 *   seed replays the same events whatever the producer count. Event ids are `${producerId + lane}-${index}`: per
 *   producer the seqs are increasing with gaps.
 * - **Pacing**: a loop wakes every `tickMs` (or at the next due time when that is later), offers every event whose
 *   `sentAt` has passed and appends it to its lane's queue. Offering never waits for acks: a slow broker grows the
 *   queues, not the intervals. Only the in-flight budget (offered but unresolved events / bytes) pauses offering;
 *   then events are offered late and the lateness (`time - sentAt`, the schedule lag) is measured, never hidden.
 *   Latency is always measured from `sentAt`, so queueing and lag count against the system (no coordinated omission).
 * - **Sending**: a lane has at most one send in flight (@platformatic/kafka's idempotent producer allows one request
 *   per connection and numbers sequences when it builds a request, so two sends of one partition in flight would
 *   reuse sequence numbers). Whatever queued while it was in flight goes in the next request (up to
 *   maxRequestRecords / maxRequestBytes), so batches grow with the latency, like Kafka's accumulator.
 * - **Outcomes**: acked when the client confirms; on an error the sender says per partition `failed` (definitely not
 *   written) or `unknown`; a send unanswered after `acksTimeoutMs` is `unknown`. After any error the lane's sender is
 *   reset (a fresh producer id), so an ambiguous request can never make the broker de-duplicate a *later* batch that
 *   reuses its sequence numbers. The driver never re-sends an event: at most one producer session ever carries it.
 * - **Drain**: after the schedule (or stop()) queued events are still sent; after `drainTimeoutMs` what is in flight
 *   is `unknown` and what never left the queue is `failed` (it was never handed to Kafka).
 */
import * as hdr from 'hdr-histogram-js';
import { type BulkGenerator, createBulkGenerator } from '../../generators/bulk.ts';
import type { History, Outcome } from '../history/index.ts';
import { formatDuration } from '../util/duration.ts';
import { type Progress, silent } from '../util/progress.ts';
import type { Clock } from './clock.ts';
import { partitionForKey } from './murmur2.ts';
import type { ResolvedLoad } from './options.ts';

export interface OutMessage {
  topic: string;
  key: Buffer;
  value: Buffer;
  partition: number;
}

/** One producer instance as the driver sees it. */
export interface LaneSender {
  /** Send the messages; `done()` when all are acknowledged, `done(error)` otherwise. Called at most once. */
  send(messages: OutMessage[], done: (error?: unknown) => void): void;
  /** Per-partition outcome of a send that ended in `error`. */
  outcomes(error: unknown): (partition: number) => Outcome;
  /** A short message for the history. */
  describe(error: unknown): string;
  /** Drop the session after an error or timeout (new producer id; in-flight requests are abandoned). */
  reset(): void;
  close(): Promise<void>;
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LoadSummary {
  topic: string;
  partitions: number;
  /** Producers actually used: min(producers, partitions). */
  producers: number;
  producerIds: number[];
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
  /** How late events were offered relative to their intended time (the budget or a starved loop delays offers). */
  scheduleLag: { maxMs: number; p99Ms: number; lateOffers: number; lateOfferMs: number };
  /** Ack time - intended send time of acked events. */
  ackLatency: LatencySummary | null;
  /** Highest number of offered-but-unresolved events. */
  inFlightMax: number;
  /** Pacing ticks on which the in-flight budget stopped offering. */
  budgetBlockedTicks: number;
  /** Produce requests sent, and the mean records per request. */
  requests: number;
  meanBatch: number;
  /** Producer sessions replaced after an error or timeout. */
  producerResets: number;
  /** Schedule start (ms epoch) and the time the summary was made; durationMs = end - start. */
  startedAt: number;
  endedAt: number;
  durationMs: number;
  /** `completed`: the schedule ran to its end; `stopped`: stop() or the signal cut it short. */
  ending: 'completed' | 'stopped';
  /** False when the drain timed out with sends still in flight (they were recorded unknown). */
  drainComplete: boolean;
}

const CHUNK = 1024;

interface InFlight {
  msgs: OutMessage[];
  ids: string[];
  sentAt: number[];
  bytes: number;
  timer: unknown;
  settled: boolean;
}

class Lane {
  // Generated, not yet offered (one chunk at most).
  laMsgs: OutMessage[] = [];
  laSentAt: number[] = [];
  laSeq: number[] = [];
  laUserSeq: number[] = [];
  laHead = 0;
  exhausted = false;
  // Offered, not yet sent.
  qMsgs: OutMessage[] = [];
  qIds: string[] = [];
  qSentAt: number[] = [];
  qHead = 0;
  sending: InFlight | undefined;

  constructor(
    readonly index: number,
    readonly producerId: number,
    readonly gen: BulkGenerator,
    readonly sender: LaneSender,
  ) {}

  get queued(): number {
    return this.qMsgs.length - this.qHead;
  }
}

export interface DriverDeps {
  history: History;
  clock: Clock;
  progress?: Progress;
  partitions: number;
  /** One sender per lane (min(producers, partitions) of them). */
  senders: LaneSender[];
  /** Intended send time of the first event; default the clock's next whole millisecond. */
  startTime?: number;
}

export class LoadDriver {
  readonly done: Promise<LoadSummary>;
  readonly startTime: number;
  readonly endTime: number;
  #resolveDone!: (s: LoadSummary) => void;
  #lanes: Lane[];
  #cfg: ResolvedLoad;
  #history: History;
  #clock: Clock;
  #progress: Progress;
  #partitions: number;
  #topic: string;
  #offering = true;
  #stoppedEarly = false;
  #offerEnd: number | undefined;
  #lastOffer = 0;
  #tickTimer: unknown;
  #progressTimer: unknown;
  #drainTimer: unknown;
  #drainComplete = true;
  #finished = false;
  // counters
  #offered = 0;
  #acked = 0;
  #failed = 0;
  #unknown = 0;
  #inFlight = 0;
  #inFlightBytes = 0;
  #inFlightMax = 0;
  #blockedTicks = 0;
  #requests = 0;
  #requestRecords = 0;
  #resets = 0;
  #lateOffers = 0;
  #maxLag = 0;
  #lag = hdr.build({ bitBucketSize: 32, numberOfSignificantValueDigits: 2, autoResize: true });
  #ack = hdr.build({ bitBucketSize: 32, numberOfSignificantValueDigits: 3, autoResize: true });
  #lastProgress = { time: 0, offered: 0, acked: 0 };

  constructor(cfg: ResolvedLoad, deps: DriverDeps) {
    this.#cfg = cfg;
    this.#history = deps.history;
    this.#clock = deps.clock;
    this.#progress = deps.progress ?? silent;
    this.#partitions = deps.partitions;
    this.#topic = cfg.topic;
    this.startTime = deps.startTime ?? Math.ceil(this.#clock.now());
    this.endTime = this.startTime + cfg.durationMs;
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
    const lanes = deps.senders.length;
    this.#lanes = deps.senders.map((sender, k) => {
      const producerId = cfg.baseProducerId + k;
      const gen = createBulkGenerator({
        ...cfg.generator,
        producerId,
        startTime: this.startTime,
        ...(cfg.stages === undefined ? { ratePerSec: cfg.rate } : { stages: cfg.stages }),
      });
      return new Lane(k, producerId, gen, sender);
    });
    if (lanes < 1 || lanes > this.#partitions) throw new RangeError(`lanes must be in [1, ${this.#partitions}]`);
  }

  /** Starts the pacing loop and the progress reports. */
  start(): this {
    this.#lastProgress = { time: this.#clock.now(), offered: 0, acked: 0 };
    this.#tick();
    this.#progressTimer = this.#clock.setTimer(() => this.#report(), 1000);
    return this;
  }

  /** Stops offering now, drains what was offered, resolves with the summary. */
  stop(): Promise<LoadSummary> {
    if (this.#offering) {
      this.#stoppedEarly = true;
      this.#endOffering();
    }
    return this.done;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  // --- pacing -------------------------------------------------------------------------------------------------

  #tick(): void {
    this.#tickTimer = undefined;
    if (!this.#offering) return;
    const now = this.#clock.now();
    this.#offerDue(now);
    if (!this.#offering) return;
    // Next wake: the earliest due event, but never later than 50 ms (the budget may free up) nor sooner than tickMs.
    let next = Number.POSITIVE_INFINITY;
    for (const l of this.#lanes) if (l.laHead < l.laMsgs.length) next = Math.min(next, l.laSentAt[l.laHead]!);
    const wait = Math.min(50, Math.max(this.#cfg.tickMs, next - this.#clock.now()));
    this.#tickTimer = this.#clock.setTimer(() => this.#tick(), wait);
  }

  #offerDue(now: number): void {
    let blocked = false;
    for (const lane of this.#lanes) {
      // The lag histogram gets one entry per lane and pass, weighted by the events offered: the first one is the
      // oldest (sentAt is non-decreasing), so its lag bounds every other's from above. Per-event recording cost 10%.
      let n = 0;
      let firstLag = 0;
      for (;;) {
        if (lane.laHead >= lane.laMsgs.length && !this.#refill(lane)) break;
        const sentAt = lane.laSentAt[lane.laHead]!;
        if (sentAt >= this.endTime) {
          lane.exhausted = true;
          lane.laMsgs = [];
          lane.laHead = 0;
          break;
        }
        if (sentAt > now) break;
        if (this.#inFlight >= this.#cfg.maxInFlightRecords || this.#inFlightBytes >= this.#cfg.maxInFlightBytes) {
          blocked = true;
          break;
        }
        const lag = this.#offer(lane, now);
        if (n++ === 0) firstLag = lag;
      }
      if (n > 0) this.#lag.recordValueWithCount(firstLag > 0 ? Math.round(firstLag * 1000) : 0, n);
      this.#pump(lane);
    }
    if (blocked) this.#blockedTicks++;
    const allDone = this.#lanes.every((l) => l.exhausted && l.laHead >= l.laMsgs.length);
    if (allDone) this.#endOffering();
  }

  /** Generates the lane's next chunk (keeping its partitions). False when the schedule is exhausted. */
  #refill(lane: Lane): boolean {
    if (lane.exhausted) return false;
    const gen = lane.gen;
    const left = gen.model.schedule.events - gen.position;
    if (left <= 0) {
      lane.exhausted = true;
      return false;
    }
    lane.laMsgs = [];
    lane.laSentAt = [];
    lane.laSeq = [];
    lane.laUserSeq = [];
    lane.laHead = 0;
    const lanes = this.#lanes.length;
    const parts = this.#partitions;
    while (lane.laMsgs.length === 0) {
      const n = Math.min(CHUNK, gen.model.schedule.events - gen.position);
      if (n <= 0) {
        lane.exhausted = true;
        return false;
      }
      const b = gen.nextBatch(n);
      const bounds = b.bounds;
      // One copy per chunk: the batch's buffer is reused by the next nextBatch, and the client reads the bytes later.
      const used = bounds[2 * n]!;
      const bytes = Buffer.allocUnsafe(used);
      b.buffer.copy(bytes, 0, 0, used);
      for (let i = 0; i < n; i++) {
        const k0 = bounds[2 * i]!;
        const k1 = bounds[2 * i + 1]!;
        const partition = partitionForKey(bytes, parts, k0, k1);
        if (lanes > 1 && partition % lanes !== lane.index) continue;
        lane.laMsgs.push({
          topic: this.#topic,
          key: bytes.subarray(k0, k1),
          value: bytes.subarray(k1, bounds[2 * i + 2]!),
          partition,
        });
        lane.laSentAt.push(b.sentAt[i]!);
        lane.laSeq.push(b.firstIndex + i);
        lane.laUserSeq.push(b.userSeqs[i]!);
      }
      // Past the end of the run: this was the last chunk (its tail beyond the end is never offered).
      if (b.sentAt[n - 1]! >= this.endTime) {
        lane.exhausted = true;
        break;
      }
    }
    return lane.laMsgs.length > 0;
  }

  /** Offers the lane's next event; returns its schedule lag (ms). */
  #offer(lane: Lane, now: number): number {
    const i = lane.laHead++;
    const msg = lane.laMsgs[i]!;
    const sentAt = lane.laSentAt[i]!;
    const eventId = `${lane.producerId}-${lane.laSeq[i]!}`;
    this.#history.record({
      kind: 'offered',
      time: now,
      eventId,
      userId: msg.key.toString('latin1'),
      userSeq: lane.laUserSeq[i]!,
      sentAt,
    });
    lane.qMsgs.push(msg);
    lane.qIds.push(eventId);
    lane.qSentAt.push(sentAt);
    this.#offered++;
    this.#inFlight++;
    this.#inFlightBytes += msg.key.length + msg.value.length;
    if (this.#inFlight > this.#inFlightMax) this.#inFlightMax = this.#inFlight;
    const lag = now - sentAt;
    if (lag > this.#maxLag) this.#maxLag = lag;
    if (lag > this.#cfg.lateOfferMs) this.#lateOffers++;
    this.#lastOffer = now;
    return lag;
  }

  // --- sending ------------------------------------------------------------------------------------------------

  #pump(lane: Lane): void {
    if (lane.sending !== undefined || lane.queued === 0 || this.#finished) return;
    const maxRecords = this.#cfg.maxRequestRecords;
    const maxBytes = this.#cfg.maxRequestBytes;
    const start = lane.qHead;
    let end = start;
    let bytes = 0;
    while (end < lane.qMsgs.length && end - start < maxRecords) {
      const m = lane.qMsgs[end]!;
      const b = m.key.length + m.value.length;
      if (end > start && bytes + b > maxBytes) break;
      bytes += b;
      end++;
    }
    const batch: InFlight = {
      msgs: lane.qMsgs.slice(start, end),
      ids: lane.qIds.slice(start, end),
      sentAt: lane.qSentAt.slice(start, end),
      bytes,
      timer: undefined,
      settled: false,
    };
    lane.qHead = end;
    if (lane.qHead > 65_536 && lane.qHead * 2 > lane.qMsgs.length) {
      lane.qMsgs = lane.qMsgs.slice(lane.qHead);
      lane.qIds = lane.qIds.slice(lane.qHead);
      lane.qSentAt = lane.qSentAt.slice(lane.qHead);
      lane.qHead = 0;
    }
    lane.sending = batch;
    this.#requests++;
    this.#requestRecords += batch.msgs.length;
    batch.timer = this.#clock.setTimer(() => this.#settle(lane, batch, { timeout: true }), this.#cfg.acksTimeoutMs);
    try {
      lane.sender.send(batch.msgs, (error) => this.#settle(lane, batch, error === undefined ? undefined : { error }));
    } catch (error) {
      this.#settle(lane, batch, { error });
    }
  }

  #settle(lane: Lane, batch: InFlight, result: undefined | { error: unknown } | { timeout: true }): void {
    if (batch.settled) return;
    batch.settled = true;
    this.#clock.clearTimer(batch.timer);
    if (lane.sending === batch) lane.sending = undefined;
    const time = this.#clock.now();
    let outcomeOf: (partition: number) => Outcome;
    let message: string | undefined;
    if (result === undefined) {
      outcomeOf = () => 'acked';
    } else if ('timeout' in result) {
      outcomeOf = () => 'unknown';
      message = `no answer within acksTimeoutMs (${formatDuration(this.#cfg.acksTimeoutMs)})`;
    } else {
      try {
        outcomeOf = lane.sender.outcomes(result.error);
        message = lane.sender.describe(result.error);
      } catch (e) {
        outcomeOf = () => 'unknown';
        message = `unclassifiable error: ${String(e)}`;
      }
    }
    const h = this.#history;
    const n = batch.msgs.length;
    for (let i = 0; i < n; i++) {
      const outcome = outcomeOf(batch.msgs[i]!.partition);
      const sentAt = batch.sentAt[i]!;
      if (outcome === 'acked') {
        h.record({ kind: 'outcome', time, eventId: batch.ids[i]!, outcome, sentAt });
        this.#acked++;
        const l = time - sentAt;
        this.#ack.recordValue(l > 0 ? Math.round(l * 1000) : 0);
      } else {
        h.record({ kind: 'outcome', time, eventId: batch.ids[i]!, outcome, sentAt, error: message });
        if (outcome === 'failed') this.#failed++;
        else this.#unknown++;
      }
    }
    this.#inFlight -= n;
    this.#inFlightBytes -= batch.bytes;
    if (result !== undefined) {
      // The client's sequence numbers may now disagree with the broker's: start a new producer session.
      this.#resets++;
      try {
        lane.sender.reset();
      } catch {
        // a sender that cannot reset will fail its next send, which is recorded like any other failure
      }
    }
    if (this.#offering) this.#offerDue(this.#clock.now());
    else this.#pump(lane);
    this.#maybeFinish();
  }

  // --- ending -------------------------------------------------------------------------------------------------

  #endOffering(): void {
    if (!this.#offering) return;
    this.#offering = false;
    this.#offerEnd = this.#clock.now();
    if (this.#tickTimer !== undefined) this.#clock.clearTimer(this.#tickTimer);
    this.#tickTimer = undefined;
    for (const lane of this.#lanes) this.#pump(lane);
    this.#drainTimer = this.#clock.setTimer(() => this.#drainTimeout(), this.#cfg.drainTimeoutMs);
    this.#maybeFinish();
  }

  #drainTimeout(): void {
    this.#drainTimer = undefined;
    if (this.#finished) return;
    this.#drainComplete = false;
    const time = this.#clock.now();
    for (const lane of this.#lanes) {
      // Never handed to Kafka: definitely not written.
      for (let i = lane.qHead; i < lane.qMsgs.length; i++) {
        this.#history.record({
          kind: 'outcome',
          time,
          eventId: lane.qIds[i]!,
          outcome: 'failed',
          sentAt: lane.qSentAt[i]!,
          error: 'not sent: the drain timed out while it was queued',
        });
        this.#failed++;
        this.#inFlight--;
        const m = lane.qMsgs[i]!;
        this.#inFlightBytes -= m.key.length + m.value.length;
      }
      lane.qMsgs = [];
      lane.qIds = [];
      lane.qSentAt = [];
      lane.qHead = 0;
    }
    for (const lane of this.#lanes) if (lane.sending !== undefined) this.#settle(lane, lane.sending, { timeout: true });
    this.#maybeFinish();
  }

  #maybeFinish(): void {
    if (this.#finished || this.#offering || this.#inFlight > 0) return;
    this.#finished = true;
    if (this.#drainTimer !== undefined) this.#clock.clearTimer(this.#drainTimer);
    if (this.#progressTimer !== undefined) this.#clock.clearTimer(this.#progressTimer);
    const summary = this.#summary();
    this.#progress({
      phase: 'load',
      message: `done: offered ${summary.offered} (${Math.round(summary.offeredRate)}/s of ${Math.round(summary.targetRate)}/s), acked ${summary.acked}, failed ${summary.failed}, unknown ${summary.unknown}, ack p99 ${summary.ackLatency?.p99Ms ?? '-'} ms`,
      fraction: 1,
      ...summary,
    });
    this.#resolveDone(summary);
  }

  #report(): void {
    this.#progressTimer = undefined;
    if (this.#finished) return;
    const now = this.#clock.now();
    const dt = (now - this.#lastProgress.time) / 1000;
    const rate = dt > 0 ? (this.#offered - this.#lastProgress.offered) / dt : 0;
    const ackRate = dt > 0 ? (this.#acked - this.#lastProgress.acked) / dt : 0;
    this.#lastProgress = { time: now, offered: this.#offered, acked: this.#acked };
    const fraction = Math.min(1, Math.max(0, (now - this.startTime) / this.#cfg.durationMs));
    this.#progress({
      phase: 'load',
      message: `${this.#offering ? 'offering' : 'draining'}: offered ${this.#offered} (${Math.round(rate)}/s), acked ${this.#acked} (${Math.round(ackRate)}/s), in flight ${this.#inFlight}, failed ${this.#failed}, unknown ${this.#unknown}`,
      fraction,
      offered: this.#offered,
      acked: this.#acked,
      failed: this.#failed,
      unknown: this.#unknown,
      inFlight: this.#inFlight,
      rate,
      ackRate,
      scheduleLagMaxMs: round3(this.#maxLag),
    });
    this.#progressTimer = this.#clock.setTimer(() => this.#report(), 1000);
  }

  #summary(): LoadSummary {
    const endedAt = this.#clock.now();
    const offerEnd = Math.max(this.#offerEnd ?? endedAt, this.#lastOffer);
    const scheduleEnd = this.#stoppedEarly ? Math.min(offerEnd, this.endTime) : this.endTime;
    const window = Math.max(offerEnd, scheduleEnd) - this.startTime;
    // Completed: the events with sentAt < endTime; stopped: those due (sentAt <= t) when offering stopped.
    const scheduled = this.#scheduledUntil(scheduleEnd, this.#stoppedEarly && scheduleEnd < this.endTime);
    return {
      topic: this.#topic,
      partitions: this.#partitions,
      producers: this.#lanes.length,
      producerIds: this.#lanes.map((l) => l.producerId),
      offered: this.#offered,
      acked: this.#acked,
      failed: this.#failed,
      unknown: this.#unknown,
      targetRate: round3(this.#cfg.targetRate),
      offeredRate: window > 0 ? round3((this.#offered * 1000) / window) : 0,
      scheduled,
      scheduleLag: {
        maxMs: round3(this.#maxLag),
        p99Ms: this.#lag.totalCount === 0 ? 0 : round3(this.#lag.getValueAtPercentile(99) / 1000),
        lateOffers: this.#lateOffers,
        lateOfferMs: this.#cfg.lateOfferMs,
      },
      ackLatency:
        this.#ack.totalCount === 0
          ? null
          : {
              count: this.#ack.totalCount,
              p50Ms: round3(this.#ack.getValueAtPercentile(50) / 1000),
              p95Ms: round3(this.#ack.getValueAtPercentile(95) / 1000),
              p99Ms: round3(this.#ack.getValueAtPercentile(99) / 1000),
              maxMs: round3(this.#ack.maxValue / 1000),
            },
      inFlightMax: this.#inFlightMax,
      budgetBlockedTicks: this.#blockedTicks,
      requests: this.#requests,
      meanBatch: this.#requests === 0 ? 0 : round3(this.#requestRecords / this.#requests),
      producerResets: this.#resets,
      startedAt: this.startTime,
      endedAt,
      durationMs: round3(endedAt - this.startTime),
      ending: this.#stoppedEarly ? 'stopped' : 'completed',
      drainComplete: this.#drainComplete,
    };
  }

  /** Events the (whole, one-producer) schedule holds with sentAt < t (or <= t). */
  #scheduledUntil(t: number, inclusive: boolean): number {
    const s = this.#lanes[0]!.gen.model.schedule;
    const before = (i: number) => (inclusive ? s.at(i) <= t : s.at(i) < t);
    let lo = 0;
    let hi = Math.min(s.events, Number.MAX_SAFE_INTEGER);
    if (!Number.isFinite(hi)) {
      hi = 1;
      while (before(hi)) hi *= 2;
    }
    // the first index not before t
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (before(mid)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
