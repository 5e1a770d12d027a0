/**
 * The open-model Kafka load driver: the pacing engine (pacing-engine.ts: pacing, in-flight budget, outcomes, drain)
 * with one lane per producer, each a Kafka `LaneSender` (lane-sender.ts) fed by its `PartitionSource`
 * (event-source.ts). Every event gets one `offered` and exactly one `outcome` record in the History.
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
 * - **Pacing**: each event is offered at its own intended time (the engine's `group` 1), queued on its lane.
 * - **Sending**: a lane has at most one send in flight (@platformatic/kafka's idempotent producer allows one request
 *   per connection and numbers sequences when it builds a request, so two sends of one partition in flight would
 *   reuse sequence numbers); `maxInFlightRequests` > 1 only with the fast sender, which numbers them itself, in order
 *   on one connection per leader, as Java's producer does with up to 5.
 * - **Outcomes**: acked when the client confirms; on an error the sender says per partition `failed` (definitely not
 *   written) or `unknown`; a send unanswered after `acksTimeoutMs` is `unknown`. After any error the lane's sender is
 *   reset (a fresh producer id). The driver never re-sends an event: at most one producer session ever carries it.
 * - **Drain**: after the schedule (or stop()) queued events are still sent; after `drainTimeoutMs` what is in flight
 *   is `unknown` and what never left the queue is `failed` (it was never handed to Kafka).
 */
import { createBulkGenerator } from '../../generators/bulk.ts';
import type { SchemaVersion } from '../../generators/event.ts';
import type { History } from '../history/index.ts';
import type { Progress } from '../util/progress.ts';
import type { Clock } from './clock.ts';
import { PartitionSource } from './event-source.ts';
import { kafkaTransport, type LaneSender } from './lane-sender.ts';
import type { ResolvedLoad } from './options.ts';
import { PacingEngine } from './pacing-engine.ts';
import type { LoadSummary } from './summary.ts';
import type { OutMessage } from './transport.ts';

// The Kafka senders, the bench and the tests import these from here.
export type { LaneSender } from './lane-sender.ts';
export type { LatencySummary, LoadSummary } from './summary.ts';
export type { OutMessage } from './transport.ts';

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
  #engine: PacingEngine<OutMessage, LoadSummary>;
  #sources: PartitionSource[];

  constructor(cfg: ResolvedLoad, deps: DriverDeps) {
    const partitions = deps.partitions;
    const lanes = deps.totalLanes ?? deps.senders.length;
    if (lanes < 1 || lanes > partitions) throw new RangeError(`lanes must be in [1, ${partitions}]`);
    if (deps.senders.length < 1) throw new RangeError('a driver needs at least one lane');
    const startTime = deps.startTime ?? Math.ceil(deps.clock.now());
    const endTime = startTime + cfg.durationMs;
    const producerIds: number[] = [];
    const sources = deps.senders.map((_, j) => {
      const k = deps.laneIds?.[j] ?? j;
      const producerId = cfg.baseProducerId + k;
      producerIds.push(producerId);
      const gen = createBulkGenerator({
        ...cfg.generator,
        producerId,
        startTime,
        ...(cfg.stages === undefined ? { ratePerSec: cfg.rate } : { stages: cfg.stages }),
      });
      return new PartitionSource(gen, endTime, j, cfg.topic, partitions, k, lanes, cfg.slice);
    });
    this.#sources = sources;
    this.#engine = new PacingEngine(
      {
        durationMs: cfg.durationMs,
        targetRate: cfg.targetRate,
        tickMs: cfg.tickMs,
        lateOfferMs: cfg.lateOfferMs,
        maxInFlightRecords: cfg.maxInFlightRecords,
        maxInFlightBytes: cfg.maxInFlightBytes,
        maxRequestRecords: cfg.maxRequestRecords,
        maxRequestBytes: cfg.maxRequestBytes,
        maxInFlightRequests: cfg.maxInFlightRequests,
        requestTimeoutMs: cfg.acksTimeoutMs,
        drainTimeoutMs: cfg.drainTimeoutMs,
        group: 1,
        label: '',
      },
      {
        history: deps.history,
        clock: deps.clock,
        progress: deps.progress,
        transports: deps.senders.map((s) => kafkaTransport(s, cfg.acksTimeoutMs)),
        sources,
        startTime,
        size: (m) => m.key.length + m.value.length,
        summarize: (core) => ({
          topic: cfg.topic,
          partitions,
          producers: producerIds.length,
          producerIds,
          ...core,
        }),
      },
    );
    this.startTime = startTime;
    this.endTime = endTime;
    this.done = this.#engine.done;
  }

  /** Starts the pacing loop and the progress reports. */
  start(): this {
    this.#engine.start();
    return this;
  }

  /** Stops offering now, drains what was offered, resolves with the summary. */
  stop(): Promise<LoadSummary> {
    return this.#engine.stop();
  }

  /**
   * A live schema upgrade: every lane offers events of `version`, framed with `schemaId`, from now on (the events it
   * generated ahead are written again; event-source.ts). Between two ticks, so no offer sees half of it.
   */
  switchSchema(version: SchemaVersion, schemaId: number): void {
    for (const s of this.#sources) s.switchSchema(version, schemaId);
  }

  get inFlight(): number {
    return this.#engine.inFlight;
  }
}
