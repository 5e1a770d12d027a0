/**
 * HTTP load: the bulk generator's events POSTed as NDJSON batches to an ingest endpoint (the reference collector's
 * `POST /v1/events`) at a constant arrival rate, in-process, over autocannon connections. It is the pacing engine
 * (pacing-engine.ts) with one `UserSource` (event-source.ts) and one `HttpLaneTransport` per connection
 * (http-transport.ts): every event gets one `offered` and exactly one `outcome` record in the History, like the Kafka
 * load's, so the runner's checkers, latency summaries and SLOs apply unchanged.
 *
 * Model:
 * - **Events and lanes**: one generator (JSON format, one producer id, the whole rate or the stages), its events
 *   split by user into `connections` lanes (`userIndex % connections`). A lane is one keep-alive connection with at
 *   most one request in flight, so a user's events reach the collector in user_seq order: two requests in flight
 *   that shared a user could be produced out of order, which the attributor (rightly) drops as a reordering.
 * - **Requests at intended times**: a lane's events fill batches of `batch` (the engine's `group`); a batch becomes a
 *   request when its last event is due (its `sentAt`): that is the request's **intended time**. So requests arrive
 *   at a constant rate (rate / batch per second overall) whatever the responses do. A request due while its lane's
 *   previous one is still in flight waits in the lane's queue (never dropped, never re-timed); its latency still
 *   counts from the intended time, so a slow collector shows as latency and schedule lag, not as a lower offered
 *   rate (coordinated omission corrected, as for Kafka). The schedule's last partial batches go at its end.
 * - **Latency**: an event's `sentAt` in the History is its request's intended time, so the ack latency histogram
 *   is the HTTP response latency from the intended time. The event's own `sent_at` (in its body, at most one
 *   batch-fill earlier) is what end-to-end latency is measured from.
 * - **Outcomes**: http-outcome.ts (429 -> failed and throttled, 5xx and no response -> unknown, ...). Never re-sent:
 *   at most one request carries an event.
 * - **Drain**: after the schedule, queued requests are still sent; after `drainTimeoutMs` what is in flight is
 *   unknown and what never left its queue is failed.
 */
import { createBulkGenerator } from '../../generators/bulk.ts';
import type { History } from '../history/index.ts';
import { StreamproofError } from '../util/errors.ts';
import { type Progress, silent } from '../util/progress.ts';
import { type Clock, systemClock } from './clock.ts';
import { UserSource } from './event-source.ts';
import { autocannonConnection, type ConnectionEvents, type HttpConnection } from './http-connection.ts';
import { type HttpLoadOptions, type ResolvedHttpLoad, resolveHttpLoadOptions } from './http-options.ts';
import { HttpLaneTransport, HttpStats } from './http-transport.ts';
import { loadHandle } from './load.ts';
import { PacingEngine } from './pacing-engine.ts';
import { type HttpLoadSummary, latencyOf } from './summary.ts';

export type { HttpLoadSummary } from './summary.ts';

export interface RunningHttpLoad extends AsyncDisposable {
  readonly ready: Promise<{ startTime: number }>;
  readonly done: Promise<HttpLoadSummary>;
  stop(): Promise<HttpLoadSummary>;
}

export interface HttpDriverDeps {
  history: History;
  clock: Clock;
  progress?: Progress;
  /** One connection per lane. */
  connect: (lane: number, events: ConnectionEvents) => HttpConnection;
  /** Intended send time of the first event; default the clock's next whole millisecond. */
  startTime?: number;
}

/** The HTTP load on the pacing engine: `start()`, then `done` (or `stop()`), then `close()` the connections. */
export class HttpLoadDriver {
  readonly done: Promise<HttpLoadSummary>;
  readonly startTime: number;
  readonly endTime: number;
  #engine: PacingEngine<Buffer, HttpLoadSummary>;

  constructor(cfg: ResolvedHttpLoad, deps: HttpDriverDeps) {
    const startTime = deps.startTime ?? Math.ceil(deps.clock.now());
    const endTime = startTime + cfg.durationMs;
    const gen = createBulkGenerator({
      ...cfg.generator,
      format: 'json',
      producerId: cfg.producerId,
      startTime,
      ...(cfg.stages === undefined ? { ratePerSec: cfg.rate } : { stages: cfg.stages }),
    });
    const stats = new HttpStats();
    const transports: HttpLaneTransport[] = [];
    try {
      for (let k = 0; k < cfg.connections; k++) {
        transports.push(new HttpLaneTransport(k, deps.connect, deps.clock, cfg.timeoutMs, stats));
      }
    } catch (e) {
      // Connections already made would keep reconnecting: close them before giving up.
      void Promise.allSettled(transports.map((t) => t.close()));
      throw e;
    }
    this.#engine = new PacingEngine(
      {
        durationMs: cfg.durationMs,
        targetRate: cfg.targetRate,
        tickMs: 1,
        lateOfferMs: cfg.lateOfferMs,
        maxInFlightRecords: cfg.maxInFlightEvents,
        maxInFlightBytes: Number.POSITIVE_INFINITY,
        maxRequestRecords: cfg.batch,
        maxRequestBytes: Number.POSITIVE_INFINITY,
        maxInFlightRequests: 1,
        // autocannon's own timeout (timeoutMs) replaces the connection and calls the gate; this one only guards
        // against a connection that never calls back at all (the lane then stays busy; the drain settles its queue).
        requestTimeoutMs: cfg.timeoutMs + 2000,
        drainTimeoutMs: cfg.drainTimeoutMs,
        group: cfg.batch,
        label: 'http ',
      },
      {
        history: deps.history,
        clock: deps.clock,
        progress: deps.progress,
        transports,
        sources: [new UserSource(gen, endTime, cfg.connections)],
        startTime,
        size: (line) => line.length,
        summarize: (c) => ({
          via: 'http',
          url: cfg.url.href,
          batch: cfg.batch,
          connections: cfg.connections,
          producerIds: [cfg.producerId],
          offered: c.offered,
          acked: c.acked,
          failed: c.failed,
          unknown: c.unknown,
          throttled: stats.throttled,
          rejected: stats.rejected,
          targetRate: c.targetRate,
          offeredRate: c.offeredRate,
          scheduled: c.scheduled,
          scheduleLag: c.scheduleLag,
          ackLatency: c.ackLatency,
          requests: c.requests,
          meanBatch: c.meanBatch,
          statuses: { ...stats.statuses },
          requestLatency: latencyOf(stats.request),
          serviceTime: latencyOf(stats.service),
          inFlightMax: c.inFlightMax,
          startedAt: c.startedAt,
          endedAt: c.endedAt,
          durationMs: c.durationMs,
          ending: c.ending,
          drainComplete: c.drainComplete,
        }),
      },
    );
    this.startTime = startTime;
    this.endTime = endTime;
    this.done = this.#engine.done;
  }

  start(): this {
    this.#engine.start();
    return this;
  }

  stop(): Promise<HttpLoadSummary> {
    return this.#engine.stop();
  }

  /** Closes every connection (after done, or to abandon the run). */
  close(): Promise<void> {
    return this.#engine.close();
  }
}

/**
 * Validates synchronously (StreamproofError `LOAD_INVALID_OPTION` naming the path), checks the endpoint answers (any HTTP
 * status; `LOAD_CONNECT_FAILED` otherwise), then runs the schedule in the background.
 */
export function startHttpLoad(options: HttpLoadOptions): RunningHttpLoad {
  const cfg = resolveHttpLoadOptions(options);
  const clock = options.clock ?? systemClock;
  const progress = options.progress ?? silent;
  const connect = options.connect ?? ((_lane: number, ev: ConnectionEvents) => autocannonConnection(cfg.url, cfg, ev));
  return loadHandle<HttpLoadSummary, { startTime: number }>(options.signal, async (started) => {
    progress({ phase: 'load', message: `http: checking ${cfg.url.origin}` });
    await probe(cfg.url, cfg.timeoutMs);
    const d = new HttpLoadDriver(cfg, { history: options.history, clock, progress, connect });
    try {
      progress({
        phase: 'load',
        message: `http: offering ${cfg.rate === undefined ? 'stages' : `${cfg.rate}/s`} for ${cfg.durationMs} ms to ${cfg.url.href}, ${cfg.batch} events per request, ${cfg.connections} connection(s)`,
      });
      d.start();
      started(d, { startTime: d.startTime });
      return await d.done;
    } finally {
      await d.close();
    }
  });
}

/** One GET of the origin's `/healthz` (any HTTP answer proves the endpoint is up; the status is not judged). */
async function probe(url: URL, timeoutMs: number): Promise<void> {
  try {
    const res = await fetch(new URL('/healthz', url.origin), {
      signal: AbortSignal.timeout(Math.min(timeoutMs, 10_000)),
    });
    await res.arrayBuffer();
  } catch (e) {
    throw new StreamproofError(
      'LOAD_CONNECT_FAILED',
      `no HTTP answer from ${url.origin}: ${(e as Error).message}; is the collector running?`,
      {},
      { cause: e },
    );
  }
}
