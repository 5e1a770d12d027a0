/**
 * The pacing engine: the open-model scheduler behind every load, whatever carries the events (transport.ts). It
 * offers the sources' events at their intended send times, hands them to the lanes' transports in requests, records
 * one `offered` and exactly one `outcome` per event in the History, measures latency from the intended time, reports
 * progress, and stops and drains. The Kafka load (driver.ts) and the HTTP load (http.ts) are this engine with their
 * sources, transports and settings.
 *
 * - **Pacing**: a loop wakes every `tickMs` (or at the next due time when that is later, at most 50 ms on), takes
 *   every event whose `sentAt` has passed and offers it to its lane. Offering never waits for answers: a slow server
 *   grows the queues, not the intervals. Only the in-flight budget (offered but unresolved events / bytes) pauses
 *   offering; events are then offered late and the lateness (`time - sentAt`, the schedule lag) is measured, never
 *   hidden. Latency counts from `sentAt`, so queueing and lag count against the system (no coordinated omission).
 * - **Groups**: with `group` 1 an event is offered at its own time (Kafka). With `group` k a lane's due events are
 *   gathered k at a time and offered together when the last is due (HTTP requests), with that time as everyone's
 *   `sentAt` (the request's intended time); at the end of offering, partial groups are offered.
 * - **Requests**: a lane has at most `maxInFlightRequests` requests in flight, and none while its transport is not
 *   `ready()`. Whatever queued meanwhile goes in the next request (up to maxRequestRecords / maxRequestBytes), so
 *   requests grow with the latency, like Kafka's accumulator.
 * - **Outcomes**: all acked when the transport says so, else per event as its `settle` says; a request unanswered
 *   after `requestTimeoutMs` is settled as timed out. A verdict asking for it resets the lane's session (once per
 *   session: its other requests in flight fail with it). An event is never re-sent.
 * - **Drain**: after the schedule (or stop()) queued events are still sent; after `drainTimeoutMs` what is in flight
 *   is settled as timed out and what never left the queue is `failed` (never handed to the transport).
 */
import type { History } from '../history/index.ts';
import { type Progress, silent } from '../util/progress.ts';
import type { Clock } from './clock.ts';
import { EngineMeter } from './engine-meter.ts';
import type { EventSource } from './event-source.ts';
import { type InFlight, Lane } from './lane.ts';
import { type EngineSummary, RunRecorder, round3 } from './summary.ts';
import { type Ending, type LaneTransport, uniformVerdict, type Verdict } from './transport.ts';

export interface EngineConfig {
  durationMs: number;
  targetRate: number;
  tickMs: number;
  lateOfferMs: number;
  maxInFlightRecords: number;
  maxInFlightBytes: number;
  maxRequestRecords: number;
  maxRequestBytes: number;
  maxInFlightRequests: number;
  requestTimeoutMs: number;
  drainTimeoutMs: number;
  /** Events offered together (see the module comment); 1 = each at its own time. */
  group: number;
  /** Prefix of the progress messages (`http `). */
  label: string;
}

/** What the engine reads of a load's summary (its closing progress message). */
type Closing = Pick<
  EngineSummary,
  'offered' | 'offeredRate' | 'targetRate' | 'acked' | 'failed' | 'unknown' | 'ackLatency'
>;

export interface EngineDeps<M, S extends Closing> {
  history: History;
  clock: Clock;
  progress?: Progress | undefined;
  /** One per lane. */
  transports: LaneTransport<M>[];
  /** Each source's events go to the lanes it names; all sources run the same schedule. */
  sources: EventSource<M>[];
  /** Intended send time of the first event (the sources' generators start there). */
  startTime: number;
  /** Bytes of one event, for the in-flight budget (`maxInFlightBytes`) and the request cap (`maxRequestBytes`). */
  size(m: M): number;
  /** The load's summary from the engine's. */
  summarize(core: EngineSummary): S;
}

export class PacingEngine<M, S extends Closing> {
  readonly done: Promise<S>;
  readonly startTime: number;
  readonly endTime: number;
  #resolveDone!: (s: S) => void;
  #cfg: EngineConfig;
  #deps: EngineDeps<M, S>;
  #history: History;
  #clock: Clock;
  #progress: Progress;
  #lanes: Lane<M>[];
  #sources: EventSource<M>[];
  #offering = true;
  #stoppedEarly = false;
  #offerEnd: number | undefined;
  #tickTimer: unknown;
  #progressTimer: unknown;
  #drainTimer: unknown;
  #drainComplete = true;
  #finished = false;
  #m: EngineMeter;
  #size: (m: M) => number;
  #lastProgress = { time: 0, offered: 0, acked: 0 };

  constructor(cfg: EngineConfig, deps: EngineDeps<M, S>) {
    if (deps.transports.length < 1) throw new RangeError('a load needs at least one lane');
    if (deps.sources.length < 1) throw new RangeError('a load needs at least one event source');
    this.#cfg = cfg;
    this.#deps = deps;
    this.#history = deps.history;
    this.#clock = deps.clock;
    this.#progress = deps.progress ?? silent;
    this.startTime = deps.startTime;
    this.endTime = this.startTime + cfg.durationMs;
    this.#sources = deps.sources;
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
    this.#m = new EngineMeter(cfg.lateOfferMs);
    this.#size = deps.size;
    this.#lanes = deps.transports.map((t) => new Lane(t));
    for (const lane of this.#lanes) lane.transport.onReady?.(() => this.#pump(lane));
  }

  /** Starts the pacing loop and the progress reports. */
  start(): this {
    this.#lastProgress = { time: this.#clock.now(), offered: 0, acked: 0 };
    this.#tick();
    this.#progressTimer = this.#clock.setTimer(() => this.#report(), 1000);
    return this;
  }

  /** Stops offering now, drains what was offered, resolves with the summary. */
  stop(): Promise<S> {
    if (this.#offering) {
      this.#stoppedEarly = true;
      this.#endOffering();
    }
    return this.done;
  }

  get inFlight(): number {
    return this.#m.inFlight;
  }

  /** Closes every lane's transport (after done, or to abandon the run). */
  async close(): Promise<void> {
    await Promise.allSettled(this.#lanes.map((l) => l.transport.close()));
  }

  // --- pacing -------------------------------------------------------------------------------------------------

  #tick(): void {
    this.#tickTimer = undefined;
    if (!this.#offering) return;
    this.#offerDue(this.#clock.now());
    if (!this.#offering) return;
    // Next wake: the earliest due event, but never later than 50 ms (the budget may free up) nor sooner than tickMs.
    let next = Number.POSITIVE_INFINITY;
    for (const s of this.#sources) if (s.head < s.msgs.length) next = Math.min(next, s.sentAt[s.head]!);
    const wait = Math.min(50, Math.max(this.#cfg.tickMs, next - this.#clock.now()));
    this.#tickTimer = this.#clock.setTimer(() => this.#tick(), wait);
  }

  #offerDue(now: number): void {
    let blocked = false;
    const cfg = this.#cfg;
    const grouped = cfg.group > 1;
    for (const src of this.#sources) {
      // The lag histogram gets one entry per source and pass, weighted by the offers: the first one is the oldest
      // (sentAt is non-decreasing), so its lag bounds every other's from above. Per-offer recording cost 10%.
      let n = 0;
      let firstLag = 0;
      const fixed = src.fixedLane >= 0 ? this.#lanes[src.fixedLane]! : undefined;
      const m = this.#m;
      for (;;) {
        if (src.head >= src.msgs.length && !src.refill()) break;
        const sentAt = src.sentAt[src.head]!;
        if (sentAt >= this.endTime) {
          src.exhausted = true;
          src.clear();
          break;
        }
        if (sentAt > now) break;
        if (m.inFlight >= cfg.maxInFlightRecords || m.inFlightBytes >= cfg.maxInFlightBytes) {
          blocked = true;
          break;
        }
        const i = src.head++;
        const lane = fixed ?? this.#lanes[src.lane[i]!]!;
        let lag: number;
        if (!grouped) lag = this.#offer(lane, src, i, now);
        else {
          lane.gMsgs.push(src.msgs[i]!);
          lane.gIds.push(`${src.producerId}-${src.seq[i]!}`);
          lane.gUserIds.push(src.userId[i]!);
          lane.gUserSeq.push(src.userSeq[i]!);
          if (lane.gMsgs.length < cfg.group) continue;
          lag = this.#offerGroup(lane, now, sentAt);
          this.#pump(lane);
        }
        if (n++ === 0) firstLag = lag;
      }
      if (n > 0) m.lag.recordValueWithCount(firstLag > 0 ? Math.round(firstLag * 1000) : 0, n);
      if (grouped) continue;
      if (fixed !== undefined) this.#pump(fixed);
      else for (const lane of this.#lanes) this.#pump(lane);
    }
    if (blocked) this.#m.blockedTicks++;
    for (const s of this.#sources) if (!s.exhausted || s.head < s.msgs.length) return;
    this.#endOffering();
  }

  /** Offers the source's event i; returns its schedule lag (ms). */
  #offer(lane: Lane<M>, src: EventSource<M>, i: number, now: number): number {
    const msg = src.msgs[i]!;
    const sentAt = src.sentAt[i]!;
    const eventId = `${src.producerId}-${src.seq[i]!}`;
    const bad = src.bad !== undefined && src.badIds.delete(eventId);
    this.#history.record(offered(now, eventId, src.userId[i]!, src.userSeq[i]!, sentAt, bad));
    lane.qMsgs.push(msg);
    lane.qIds.push(eventId);
    lane.qSentAt.push(sentAt);
    lane.qOfferedAt.push(now);
    return this.#m.offer(1, this.#size(msg), now, sentAt);
  }

  /** Offers the lane's gathered group, every event with `sentAt` (its intended time); returns the lag (ms). */
  #offerGroup(lane: Lane<M>, now: number, sentAt: number): number {
    const msgs = lane.gMsgs;
    const ids = lane.gIds;
    let bytes = 0;
    for (let k = 0; k < msgs.length; k++) {
      const msg = msgs[k]!;
      let bad = false;
      for (const src of this.#sources) if (src.bad !== undefined && src.badIds.delete(ids[k]!)) bad = true;
      this.#history.record(offered(now, ids[k]!, lane.gUserIds[k]!, lane.gUserSeq[k]!, sentAt, bad));
      lane.qMsgs.push(msg);
      lane.qIds.push(ids[k]!);
      lane.qSentAt.push(sentAt);
      lane.qOfferedAt.push(now);
      bytes += this.#size(msg);
    }
    const n = msgs.length;
    lane.clearGroup();
    return this.#m.offer(n, bytes, now, sentAt);
  }

  // --- sending ------------------------------------------------------------------------------------------------

  #pump(lane: Lane<M>): void {
    while (
      lane.sending.length < this.#cfg.maxInFlightRequests &&
      lane.queued > 0 &&
      !this.#finished &&
      (!lane.gated || lane.transport.ready!())
    ) {
      this.#sendNext(lane);
    }
  }

  #sendNext(lane: Lane<M>): void {
    const batch = lane.take(this.#cfg.maxRequestRecords, this.#cfg.maxRequestBytes, this.#size, this.#clock.now());
    this.#m.requests++;
    this.#m.requestRecords += batch.msgs.length;
    batch.timer = this.#clock.setTimer(
      () => this.#settle(lane, batch, { timeout: 'request' }),
      this.#cfg.requestTimeoutMs,
    );
    try {
      lane.transport.send(batch.msgs, (answer) =>
        this.#settle(lane, batch, answer === undefined ? undefined : { error: answer }),
      );
    } catch (error) {
      this.#settle(lane, batch, { error });
    }
  }

  #settle(lane: Lane<M>, batch: InFlight<M>, ending: Ending | undefined): void {
    if (batch.settled) return;
    batch.settled = true;
    this.#clock.clearTimer(batch.timer);
    lane.untrack(batch);
    const time = this.#clock.now();
    let verdict: Verdict | undefined;
    if (ending !== undefined) {
      try {
        verdict = lane.transport.settle(ending, batch, time);
      } catch (e) {
        verdict = uniformVerdict('unknown', `unclassifiable error: ${String(e)}`, true);
      }
    }
    const h = this.#history;
    const n = batch.msgs.length;
    // The batch's acks share one time, and its events come in runs of equal sentAt / offer time: the histograms get
    // one entry per run (recordValueWithCount), the same counts as one per event at a fraction of the cost.
    const ackRun = new RunRecorder(this.#m.ack, time);
    const offerRun = new RunRecorder(this.#m.ackFromOffer, time);
    for (let i = 0; i < n; i++) {
      const outcome = verdict === undefined ? 'acked' : verdict.outcome(i);
      const sentAt = batch.sentAt[i]!;
      if (outcome === 'acked') {
        h.record({ kind: 'outcome', time, eventId: batch.ids[i]!, outcome, sentAt });
        this.#m.acked++;
        ackRun.add(sentAt);
        offerRun.add(batch.offeredAt[i]!);
      } else {
        h.record({ kind: 'outcome', time, eventId: batch.ids[i]!, outcome, sentAt, error: verdict!.error(i) });
        if (outcome === 'failed') this.#m.failed++;
        else this.#m.unknown++;
      }
    }
    ackRun.flush();
    offerRun.flush();
    this.#m.inFlight -= n;
    this.#m.inFlightBytes -= batch.bytes;
    if (verdict?.reset && batch.session === lane.session) {
      lane.session++;
      this.#m.resets++;
      try {
        lane.transport.reset();
      } catch {
        // a transport that cannot reset will fail its next send, which is recorded like any other failure
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
    const now = this.#clock.now();
    this.#offerEnd = now;
    if (this.#tickTimer !== undefined) this.#clock.clearTimer(this.#tickTimer);
    this.#tickTimer = undefined;
    for (const lane of this.#lanes) {
      // The last partial groups: due at the last of their events (all already due), at most the schedule's end.
      if (lane.gMsgs.length > 0) {
        const lag = this.#offerGroup(lane, now, Math.min(now, this.endTime));
        this.#m.lag.recordValue(lag > 0 ? Math.round(lag * 1000) : 0);
      }
      this.#pump(lane);
    }
    this.#drainTimer = this.#clock.setTimer(() => this.#drainTimeout(), this.#cfg.drainTimeoutMs);
    this.#maybeFinish();
  }

  #drainTimeout(): void {
    this.#drainTimer = undefined;
    if (this.#finished) return;
    this.#drainComplete = false;
    const time = this.#clock.now();
    for (const lane of this.#lanes) {
      // Never handed to the transport: definitely not written.
      for (let i = lane.qHead; i < lane.qMsgs.length; i++) {
        this.#history.record({
          kind: 'outcome',
          time,
          eventId: lane.qIds[i]!,
          outcome: 'failed',
          sentAt: lane.qSentAt[i]!,
          error: 'not sent: the drain timed out while it was queued',
        });
        this.#m.failed++;
        this.#m.inFlight--;
        this.#m.inFlightBytes -= this.#size(lane.qMsgs[i]!);
      }
      lane.clearQueue();
    }
    for (const lane of this.#lanes) for (const b of [...lane.sending]) this.#settle(lane, b, { timeout: 'drain' });
    this.#maybeFinish();
  }

  #maybeFinish(): void {
    if (this.#finished || this.#offering || this.#m.inFlight > 0) return;
    this.#finished = true;
    if (this.#drainTimer !== undefined) this.#clock.clearTimer(this.#drainTimer);
    if (this.#progressTimer !== undefined) this.#clock.clearTimer(this.#progressTimer);
    const summary = this.#deps.summarize(this.#summary());
    const fields: Closing = summary;
    this.#progress({
      phase: 'load',
      message: `${this.#cfg.label}done: offered ${summary.offered} (${Math.round(summary.offeredRate)}/s of ${Math.round(summary.targetRate)}/s), acked ${summary.acked}, failed ${summary.failed}, unknown ${summary.unknown}, ack p99 ${summary.ackLatency?.p99Ms ?? '-'} ms`,
      fraction: 1,
      ...fields,
    });
    this.#resolveDone(summary);
  }

  #report(): void {
    this.#progressTimer = undefined;
    if (this.#finished) return;
    const m = this.#m;
    const now = this.#clock.now();
    const dt = (now - this.#lastProgress.time) / 1000;
    const rate = dt > 0 ? (m.offered - this.#lastProgress.offered) / dt : 0;
    const ackRate = dt > 0 ? (m.acked - this.#lastProgress.acked) / dt : 0;
    this.#lastProgress = { time: now, offered: m.offered, acked: m.acked };
    this.#progress({
      phase: 'load',
      message: `${this.#cfg.label}${this.#offering ? 'offering' : 'draining'}: offered ${m.offered} (${Math.round(rate)}/s), acked ${m.acked} (${Math.round(ackRate)}/s), in flight ${m.inFlight}, failed ${m.failed}, unknown ${m.unknown}, requests ${m.requests}`,
      fraction: Math.min(1, Math.max(0, (now - this.startTime) / this.#cfg.durationMs)),
      ...m.progress(),
      rate,
      ackRate,
      scheduleLagMaxMs: round3(m.maxLag),
    });
    this.#progressTimer = this.#clock.setTimer(() => this.#report(), 1000);
  }

  #summary(): EngineSummary {
    const endedAt = this.#clock.now();
    const offerEnd = Math.max(this.#offerEnd ?? endedAt, this.#m.lastOffer);
    const scheduleEnd = this.#stoppedEarly ? Math.min(offerEnd, this.endTime) : this.endTime;
    const window = Math.max(offerEnd, scheduleEnd) - this.startTime;
    // Completed: the events with sentAt < endTime; stopped: those due (sentAt <= t) when offering stopped.
    const inclusive = this.#stoppedEarly && scheduleEnd < this.endTime;
    return this.#m.summary({
      targetRate: round3(this.#cfg.targetRate),
      offeredRate: window > 0 ? round3((this.#m.offered * 1000) / window) : 0,
      scheduled: this.#sources[0]!.scheduledUntil(scheduleEnd, inclusive),
      startedAt: this.startTime,
      endedAt,
      ending: this.#stoppedEarly ? 'stopped' : 'completed',
      drainComplete: this.#drainComplete,
    });
  }
}

/** An `offered` record; `bad` only when set (the common record keeps its shape). */
function offered(time: number, eventId: string, userId: string, userSeq: number, sentAt: number, bad: boolean) {
  return bad
    ? { kind: 'offered' as const, time, eventId, userId, userSeq, sentAt, bad: true }
    : { kind: 'offered' as const, time, eventId, userId, userSeq, sentAt };
}
