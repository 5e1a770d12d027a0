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
 * - **Slices** (load workers, harness/workers): a worker with `slice { index, count }` runs only the lanes its
 *   partitions (`p % count === index`) fall in, and keeps only those partitions: lane and event id of every event are
 *   the ones a one-process run with the same producers gives it, so the workers' union is that run, id for id.
 * - **Pacing**: a loop wakes every `tickMs` (or at the next due time when that is later), offers every event whose
 *   `sentAt` has passed and appends it to its lane's queue. Offering never waits for acks: a slow broker grows the
 *   queues, not the intervals. Only the in-flight budget (offered but unresolved events / bytes) pauses offering;
 *   then events are offered late and the lateness (`time - sentAt`, the schedule lag) is measured, never hidden.
 *   Latency is always measured from `sentAt`, so queueing and lag count against the system (no coordinated omission).
 * - **Sending**: a lane has at most one send in flight (@platformatic/kafka's idempotent producer allows one request
 *   per connection and numbers sequences when it builds a request, so two sends of one partition in flight would
 *   reuse sequence numbers); `maxInFlightRequests` > 1 only with the fast sender, which numbers them itself, in order
 *   on one connection per leader, as Java's producer does with up to 5. Whatever queued while it was in flight goes
 *   in the next request (up to maxRequestRecords / maxRequestBytes), so batches grow with the latency, like Kafka's
 *   accumulator.
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
  /**
   * Ack time - offer time of acked events: the producer's own latency, without the schedule lag (what Kafka's
   * ProducerPerformance reports, from send() to its callback). Equals ackLatency when nothing is offered late.
   */
  ackFromOfferLatency: LatencySummary | null;
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
  offeredAt: number[];
  bytes: number;
  timer: unknown;
  settled: boolean;
  /** The lane's producer session it was sent in (a failure resets the lane only once per session). */
  session: number;
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
  qOfferedAt: number[] = [];
  qHead = 0;
  /** Requests in flight, oldest first: at most maxInFlightRequests (1 unless the sender numbers sequences itself). */
  sending: InFlight[] = [];
  session = 0;

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
  /** One sender per lane (min(producers, partitions) of them; with a slice, one per lane the slice touches). */
  senders: LaneSender[];
  /** Lane number of each sender (its `p % totalLanes` and producer id offset); default 0, 1, ... */
  laneIds?: number[];
  /** Lanes of the whole, unsliced run (min(producers, partitions)); default senders.length. */
  totalLanes?: number;
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
  #totalLanes: number;
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
  #ackFromOffer = hdr.build({ bitBucketSize: 32, numberOfSignificantValueDigits: 3, autoResize: true });
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
    const lanes = deps.totalLanes ?? deps.senders.length;
    this.#totalLanes = lanes;
    this.#lanes = deps.senders.map((sender, j) => {
      const k = deps.laneIds?.[j] ?? j;
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
    if (this.#lanes.length < 1) throw new RangeError('a driver needs at least one lane');
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
    const lanes = this.#totalLanes;
    const slice = this.#cfg.slice;
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
        if (slice !== undefined && partition % slice.count !== slice.index) continue;
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
    lane.qOfferedAt.push(now);
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
    while (lane.sending.length < this.#cfg.maxInFlightRequests && lane.queued > 0 && !this.#finished) {
      this.#sendNext(lane);
    }
  }

  #sendNext(lane: Lane): void {
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
      offeredAt: lane.qOfferedAt.slice(start, end),
      bytes,
      timer: undefined,
      settled: false,
      session: lane.session,
    };
    lane.qHead = end;
    if (lane.qHead > 65_536 && lane.qHead * 2 > lane.qMsgs.length) {
      lane.qMsgs = lane.qMsgs.slice(lane.qHead);
      lane.qIds = lane.qIds.slice(lane.qHead);
      lane.qSentAt = lane.qSentAt.slice(lane.qHead);
      lane.qOfferedAt = lane.qOfferedAt.slice(lane.qHead);
      lane.qHead = 0;
    }
    lane.sending.push(batch);
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
    const k = lane.sending.indexOf(batch);
    if (k >= 0) lane.sending.splice(k, 1);
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
    // The batch's acks share one time, and its events come in runs of equal sentAt / offer time: the histograms get
    // one entry per run (recordValueWithCount), the same counts as one per event at a fraction of the cost.
    const ackRun = new RunRecorder(this.#ack, time);
    const offerRun = new RunRecorder(this.#ackFromOffer, time);
    for (let i = 0; i < n; i++) {
      const outcome = outcomeOf(batch.msgs[i]!.partition);
      const sentAt = batch.sentAt[i]!;
      if (outcome === 'acked') {
        h.record({ kind: 'outcome', time, eventId: batch.ids[i]!, outcome, sentAt });
        this.#acked++;
        ackRun.add(sentAt);
        offerRun.add(batch.offeredAt[i]!);
      } else {
        h.record({ kind: 'outcome', time, eventId: batch.ids[i]!, outcome, sentAt, error: message });
        if (outcome === 'failed') this.#failed++;
        else this.#unknown++;
      }
    }
    ackRun.flush();
    offerRun.flush();
    this.#inFlight -= n;
    this.#inFlightBytes -= batch.bytes;
    if (result !== undefined && batch.session === lane.session) {
      // The client's sequence numbers may now disagree with the broker's: start a new producer session (once: the
      // session's other requests in flight fail with it and are recorded, but must not reset the new session).
      lane.session++;
      this.#resets++;
      try {
        lane.sender.reset();
      } catch {
        // a sender that cannot reset will fail its next send, which is recorded like any other failure
      }
    }
    // Send what queued while this request was in flight first, then offer what came due: the request is on the wire
    // while the (synchronous) offering of the next events runs.
    this.#pump(lane);
    if (this.#offering) this.#offerDue(this.#clock.now());
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
      lane.qOfferedAt = [];
      lane.qHead = 0;
    }
    for (const lane of this.#lanes) for (const b of [...lane.sending]) this.#settle(lane, b, { timeout: true });
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
      ackLatency: latencyOf(this.#ack),
      ackFromOfferLatency: latencyOf(this.#ackFromOffer),
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

/** Records `time - from` (µs, >= 0) into a histogram, one entry per run of equal `from`. */
class RunRecorder {
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
