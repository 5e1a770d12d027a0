/**
 * HTTP load: the bulk generator's events POSTed as NDJSON batches to an ingest endpoint (the reference collector's
 * `POST /v1/events`) at a constant arrival rate, in-process, over autocannon connections. Every event gets one
 * `offered` and exactly one `outcome` record in the History, like the Kafka driver's, so the runner's checkers,
 * latency summaries and SLOs apply unchanged.
 *
 * Model:
 * - **Events and lanes**: one generator (JSON format, one producer id, the whole rate or the stages), its events
 *   split by user into `connections` lanes (`userIndex % connections`). A lane is one keep-alive connection with at
 *   most one request in flight, so a user's events reach the collector in user_seq order: two requests in flight
 *   that shared a user could be produced out of order, which the attributor (rightly) drops as a reordering.
 * - **Requests at intended times**: a lane's events fill batches of `batch`; a batch becomes a request when its last
 *   event is due (its `sentAt`): that is the request's **intended time**. So requests arrive at a constant rate
 *   (rate / batch per second overall) whatever the responses do. A request due while its lane's previous one is
 *   still in flight waits in the lane's queue (never dropped, never re-timed); its latency still counts from the
 *   intended time, so a slow collector shows as latency and schedule lag, not as a lower offered rate
 *   (coordinated omission corrected, as in the Kafka driver). The schedule's last partial batches go at its end.
 * - **Latency**: an event's `sentAt` in the History is its request's intended time, so the ack latency histogram
 *   is the HTTP response latency from the intended time. The event's own `sent_at` (in its body, at most one
 *   batch-fill earlier) is what end-to-end latency is measured from.
 * - **Outcomes** (outcomeOf): 202 (any 2xx) with per-event `results`: `accepted` -> acked, `rejected` -> failed
 *   (schema / rules / invalid JSON: the collector DLQ'd it); a 2xx without results -> acked; an index missing from
 *   results -> unknown. 429 (throttled before anything was produced) -> failed, counted as `throttled`; other 4xx
 *   (401, 413, 400, ...) -> failed; 5xx (the collector's 503 means some chunks may have been produced) -> unknown;
 *   no response (timeout, connection closed or refused) -> unknown. Never re-sent: at most one request carries an
 *   event.
 * - **Drain**: after the schedule, queued requests are still sent; after `drainTimeoutMs` what is in flight is
 *   unknown and what never left its queue is failed.
 *
 * Why autocannon is gated: its own pacing is closed-loop per connection (the next request goes when the previous
 * response arrives) and `overallRate` / `connectionRate` are per-second quotas released in bursts at each second's
 * start, so neither gives intended send times (docs/load.md, "HTTP load", has the measurement). We keep its
 * connection (raw keep-alive socket, http-parser-js, its timeout and reconnect handling) and let our scheduler decide
 * when each request leaves: `setupClient` replaces the client's internal `_doRequest` (pinned autocannon 9.0.0; the
 * transport checks it exists) by a gate that tells the lane it is idle, and the lane writes a request with the
 * public `setBody` and the original `_doRequest` when one is due.
 */
import autocannon from 'autocannon';
import * as hdr from 'hdr-histogram-js';
import { type BulkGenerator, type BulkGeneratorOptions, createBulkGenerator } from '../../generators/bulk.ts';
import type { LoadStage } from '../../generators/schedule.ts';
import type { History, Outcome } from '../history/index.ts';
import { StreamproofError } from '../util/errors.ts';
import { type Progress, silent } from '../util/progress.ts';
import { type Clock, systemClock } from './clock.ts';
import { type LatencySummary, latencyOf, round3 } from './driver.ts';
import { loadHandle } from './load.ts';
import { bad, type LoadStageSpec, num, resolveSchedule } from './options.ts';

type DriverOwned = 'ratePerSec' | 'stages' | 'startTime' | 'format' | 'schemaId';

export interface HttpLoadOptions {
  /** The ingest URL, e.g. `http://127.0.0.1:8080/v1/events` (127.0.0.1 / localhost only). */
  url: string;
  history: History;
  /** Seed, users, schemaVersion, producerId (the event ids' producer), traffic model. Always JSON. */
  generator?: Omit<BulkGeneratorOptions, DriverOwned>;
  /** Constant target rate, events/s. Exclusive with `stages`. */
  rate?: number;
  stages?: LoadStageSpec[];
  /** How long events are offered. Default: the stages' total; required with `rate`. */
  duration?: string | number;
  /** Events per request. Default 50. */
  batch?: number;
  /** Connections (lanes, each a slice of the users, one request in flight). Default 4. */
  connections?: number;
  /** Bearer token for `authorization`. */
  token?: string;
  /** A request unanswered this long is `unknown` (its connection is replaced). >= 1000. Default 30 000. */
  timeoutMs?: number;
  /** After the schedule, how long queued and in-flight requests may take. Default timeoutMs + 5 s. */
  drainTimeoutMs?: number;
  /** Offered-but-unresolved events above which offering pauses (schedule lag grows). Default 200 000. */
  maxInFlightEvents?: number;
  /** A request offered later than this after its intended time counts as a late offer. Default 100 ms. */
  lateOfferMs?: number;
  signal?: AbortSignal;
  progress?: Progress;
  clock?: Clock;
  /** Connection factory (tests); default autocannon. */
  transport?: (lane: number, events: TransportEvents) => HttpTransport;
}

export interface HttpResponse {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** What a lane's connection tells the driver. */
export interface TransportEvents {
  /** The connection can take a request (first connect, after a response, after a reconnect). */
  idle(): void;
  response(r: HttpResponse): void;
  /** The request in flight got no response (timeout, connection error or close). */
  noResponse(message: string): void;
}

/** One keep-alive connection: `send` writes one request; the events above report what happened. */
export interface HttpTransport {
  send(body: Buffer): void;
  close(): Promise<void>;
}

export interface HttpLoadSummary {
  via: 'http';
  url: string;
  batch: number;
  connections: number;
  producerIds: number[];
  offered: number;
  acked: number;
  failed: number;
  unknown: number;
  /** Events refused with 429 (recorded failed). */
  throttled: number;
  /** Events the collector rejected one by one (schema, rules; recorded failed, sent to its DLQ). */
  rejected: number;
  targetRate: number;
  /** Events/s offered over the offering window. */
  offeredRate: number;
  scheduled: number;
  /** Requests offered late relative to their intended time (budget or a starved loop). */
  scheduleLag: { maxMs: number; p99Ms: number; lateOffers: number; lateOfferMs: number };
  /** Per event: response time - the request's intended time (acked events). */
  ackLatency: LatencySummary | null;
  requests: number;
  meanBatch: number;
  /** Responses by HTTP status; `none` = no response. */
  statuses: Record<string, number>;
  /** Per request with a response: response time - intended time. */
  requestLatency: LatencySummary | null;
  /** Per request with a response: response time - time written (what a closed-loop tool reports). */
  serviceTime: LatencySummary | null;
  inFlightMax: number;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  ending: 'completed' | 'stopped';
  drainComplete: boolean;
}

export interface RunningHttpLoad extends AsyncDisposable {
  readonly ready: Promise<{ startTime: number }>;
  readonly done: Promise<HttpLoadSummary>;
  stop(): Promise<HttpLoadSummary>;
}

interface Resolved {
  url: URL;
  generator: Omit<BulkGeneratorOptions, DriverOwned>;
  producerId: number;
  rate: number | undefined;
  stages: LoadStage[] | undefined;
  durationMs: number;
  targetRate: number;
  batch: number;
  connections: number;
  token: string | undefined;
  timeoutMs: number;
  drainTimeoutMs: number;
  maxInFlightEvents: number;
  lateOfferMs: number;
}

const KEYS = [
  'url',
  'history',
  'generator',
  'rate',
  'stages',
  'duration',
  'batch',
  'connections',
  'token',
  'timeoutMs',
  'drainTimeoutMs',
  'maxInFlightEvents',
  'lateOfferMs',
  'signal',
  'progress',
  'clock',
  'transport',
];

export function resolveHttpLoadOptions(o: HttpLoadOptions): Resolved {
  const p = 'load';
  if (typeof o !== 'object' || o === null) throw bad(p, 'an options object', o);
  for (const k of Object.keys(o)) if (!KEYS.includes(k)) throw bad(`${p}.${k}`, `one of ${KEYS.join(', ')}`, k);
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw bad(`${p}.url`, 'an http:// URL', o.url);
  }
  if (url.protocol !== 'http:') throw bad(`${p}.url`, 'an http:// URL', o.url);
  // Traffic stays on this machine: load is for a collector the run started (or one beside it).
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
    throw bad(`${p}.url`, 'a URL on 127.0.0.1 or localhost', o.url);
  if (typeof o.history?.record !== 'function') throw bad(`${p}.history`, 'a History', typeof o.history);
  const generator = o.generator ?? {};
  for (const k of ['ratePerSec', 'stages', 'startTime', 'format', 'schemaId'] as const) {
    if (k in generator) throw bad(`${p}.generator.${k}`, `no ${k} (the HTTP load sets it)`, k);
  }
  const producerId = num(`${p}.generator.producerId`, generator.producerId, 0, 0, 0xffff, true);
  const { rate, stages, durationMs, targetRate } = resolveSchedule(p, o);
  if (o.token !== undefined && (typeof o.token !== 'string' || !/^[\x21-\x7e]+$/.test(o.token)))
    throw bad(`${p}.token`, 'a bearer token (printable ASCII, no spaces)', '<hidden>');
  // autocannon's connection timeout is in seconds, at least 1.
  const timeoutMs = num(`${p}.timeoutMs`, o.timeoutMs, 30_000, 1000, 3_600_000);
  return {
    url,
    generator,
    producerId,
    rate,
    stages,
    durationMs,
    targetRate,
    batch: num(`${p}.batch`, o.batch, 50, 1, 100_000, true),
    connections: num(`${p}.connections`, o.connections, 4, 1, 256, true),
    token: o.token,
    timeoutMs,
    drainTimeoutMs: num(`${p}.drainTimeoutMs`, o.drainTimeoutMs, timeoutMs + 5000, 0, 3_600_000),
    maxInFlightEvents: num(`${p}.maxInFlightEvents`, o.maxInFlightEvents, 200_000, 1, 1e9, true),
    lateOfferMs: num(`${p}.lateOfferMs`, o.lateOfferMs, 100, 0, 3_600_000),
  };
}

// --- outcome mapping --------------------------------------------------------------------------------------------

export interface RequestOutcomes {
  /** One per event of the request, in body order. */
  outcomes: Outcome[];
  /** Why, for events not acked (per event when the collector said so). */
  errors: (string | undefined)[];
  throttled: number;
  rejected: number;
}

/**
 * The outcome of every event of one request, from the response (or its absence: `undefined`). Pure: the table in
 * the module comment.
 */
export function outcomesOf(n: number, r: HttpResponse | undefined, noResponse = 'no response'): RequestOutcomes {
  const all = (o: Outcome, e: string | undefined): RequestOutcomes => ({
    outcomes: new Array<Outcome>(n).fill(o),
    errors: new Array<string | undefined>(n).fill(e),
    throttled: 0,
    rejected: 0,
  });
  if (r === undefined) return all('unknown', noResponse);
  const s = r.status;
  const brief = `HTTP ${s}${errorText(r.body)}`;
  if (s === 429) {
    const retry = header(r.headers, 'retry-after');
    return {
      ...all('failed', `${brief} (throttled${retry ? `, retry-after ${retry}` : ''})`),
      throttled: n,
    };
  }
  if (s >= 400 && s < 500) return all('failed', brief);
  if (s < 200 || s >= 300) return all('unknown', brief);
  let results: unknown;
  try {
    results = r.body.trim() === '' ? undefined : (JSON.parse(r.body) as { results?: unknown }).results;
  } catch {
    results = undefined;
  }
  if (!Array.isArray(results)) return all('acked', undefined);
  const out = all('unknown', `HTTP ${s} without a result for this event`);
  for (const x of results) {
    const res = x as { index?: unknown; status?: unknown; reason?: unknown };
    if (!Number.isInteger(res.index) || (res.index as number) < 0 || (res.index as number) >= n) continue;
    const i = res.index as number;
    if (res.status === 'accepted') {
      out.outcomes[i] = 'acked';
      out.errors[i] = undefined;
    } else if (res.status === 'rejected') {
      out.outcomes[i] = 'failed';
      out.errors[i] = `rejected: ${typeof res.reason === 'string' ? res.reason.slice(0, 300) : 'no reason given'}`;
      out.rejected++;
    }
  }
  return out;
}

function header(h: HttpResponse['headers'], name: string): string | undefined {
  const v = h[name] ?? h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function errorText(body: string): string {
  try {
    const e = (JSON.parse(body) as { error?: unknown }).error;
    return typeof e === 'string' ? `: ${e.slice(0, 200)}` : '';
  } catch {
    return '';
  }
}

// --- the autocannon connection ----------------------------------------------------------------------------------

interface GatedClient {
  _doRequest: () => void;
  setBody(body: Buffer): void;
  on(event: string, fn: (...args: unknown[]) => void): void;
}

/** One lane's connection: an autocannon instance with one connection whose request writes our scheduler gates. */
export function autocannonTransport(
  url: URL,
  o: { token?: string | undefined; timeoutMs: number },
  events: TransportEvents,
): HttpTransport {
  let client: GatedClient | undefined;
  let write: (() => void) | undefined;
  const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' };
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  let finished: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    finished = resolve;
  });
  let initError: Error | undefined;
  const instance = autocannon(
    {
      url: url.origin,
      connections: 1,
      pipelining: 1,
      // Stopped by close(); the duration only bounds a transport nobody closes.
      duration: 24 * 3600,
      timeout: o.timeoutMs / 1000,
      sampleInt: 100,
      requests: [
        {
          method: 'POST',
          path: `${url.pathname}${url.search}`,
          headers,
          onResponse: (status: number, body: string, _ctx: unknown, h: Record<string, string | string[]>) =>
            events.response({ status, body, headers: lowerKeys(h) }),
        },
      ],
      setupClient: (c: unknown) => {
        const gc = c as GatedClient;
        if (typeof gc._doRequest !== 'function')
          throw new Error('autocannon has no Client._doRequest: the HTTP load was written for autocannon 9.0.0');
        client = gc;
        const original = gc._doRequest;
        write = () => original.call(gc);
        // autocannon calls _doRequest on connect and after every response: there the connection is ready.
        gc._doRequest = () => events.idle();
        gc.on('connError', (e) => events.noResponse(`connection error: ${(e as Error)?.message ?? e}`));
      },
    } as autocannon.Options,
    (err) => {
      if (err) initError = err;
      finished();
    },
  );
  // Bad options are reported synchronously, through the callback.
  if (initError) throw new Error(`autocannon: ${initError.message}`);
  // A request whose connection dies: autocannon reconnects (and calls the gate), and emits `timeout` afterwards.
  instance.on('reqError', () => {});
  return {
    send(body) {
      if (!client || !write) throw new Error('the connection is not set up');
      client.setBody(body);
      write();
    },
    async close() {
      instance.stop();
      await ended;
    },
  };
}

function lowerKeys(h: Record<string, string | string[]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h ?? {})) out[k.toLowerCase()] = v;
  return out;
}

// --- the driver -------------------------------------------------------------------------------------------------

const CHUNK = 1024;

interface Req {
  ids: string[];
  values: Buffer[];
  userIds: string[];
  userSeqs: number[];
  /** The intended time: its last event's sentAt (or the schedule's end for a final partial batch). */
  intendedAt: number;
  writtenAt: number;
}

class HttpLane {
  // Events due, not yet in a request.
  building: Req = emptyReq();
  queue: Req[] = [];
  inFlight: Req | undefined;
  idle = false;
  transport!: HttpTransport;
  constructor(readonly index: number) {}
}

function emptyReq(): Req {
  return { ids: [], values: [], userIds: [], userSeqs: [], intendedAt: 0, writtenAt: 0 };
}

const NL = Buffer.from('\n');

export class HttpLoadDriver {
  readonly done: Promise<HttpLoadSummary>;
  readonly startTime: number;
  readonly endTime: number;
  #cfg: Resolved;
  #history: History;
  #clock: Clock;
  #progress: Progress;
  #gen: BulkGenerator;
  #lanes: HttpLane[];
  #resolveDone!: (s: HttpLoadSummary) => void;
  // generated, not yet due
  #la: { value: Buffer; id: string; userId: string; userSeq: number; lane: number; sentAt: number }[] = [];
  #laHead = 0;
  #exhausted = false;
  #offering = true;
  #stoppedEarly = false;
  #offerEnd: number | undefined;
  #finished = false;
  #drainComplete = true;
  #tickTimer: unknown;
  #progressTimer: unknown;
  #drainTimer: unknown;
  #timers = new Map<HttpLane, unknown>();
  #generated = 0;
  #offered = 0;
  #acked = 0;
  #failed = 0;
  #unknown = 0;
  #throttled = 0;
  #rejected = 0;
  #inFlight = 0;
  #inFlightMax = 0;
  #requests = 0;
  #requestEvents = 0;
  #lateOffers = 0;
  #maxLag = 0;
  #lastOffer = 0;
  #statuses: Record<string, number> = {};
  #lag = hdr.build({ bitBucketSize: 32, numberOfSignificantValueDigits: 2, autoResize: true });
  #ack = hdr.build({ bitBucketSize: 32, numberOfSignificantValueDigits: 3, autoResize: true });
  #req = hdr.build({ bitBucketSize: 32, numberOfSignificantValueDigits: 3, autoResize: true });
  #svc = hdr.build({ bitBucketSize: 32, numberOfSignificantValueDigits: 3, autoResize: true });

  constructor(
    cfg: Resolved,
    deps: {
      history: History;
      clock: Clock;
      progress?: Progress;
      transport: (lane: number, events: TransportEvents) => HttpTransport;
      startTime?: number;
    },
  ) {
    this.#cfg = cfg;
    this.#history = deps.history;
    this.#clock = deps.clock;
    this.#progress = deps.progress ?? silent;
    this.startTime = deps.startTime ?? Math.ceil(this.#clock.now());
    this.endTime = this.startTime + cfg.durationMs;
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
    this.#gen = createBulkGenerator({
      ...cfg.generator,
      format: 'json',
      producerId: cfg.producerId,
      startTime: this.startTime,
      ...(cfg.stages === undefined ? { ratePerSec: cfg.rate } : { stages: cfg.stages }),
    });
    this.#lanes = [];
    try {
      for (let k = 0; k < cfg.connections; k++) {
        const lane = new HttpLane(k);
        lane.transport = deps.transport(k, {
          idle: () => this.#onIdle(lane),
          response: (r) => this.#settle(lane, r),
          noResponse: (m) => this.#settle(lane, undefined, m),
        });
        this.#lanes.push(lane);
      }
    } catch (e) {
      // Connections already made would keep reconnecting: close them before giving up.
      void this.close();
      throw e;
    }
  }

  start(): this {
    this.#tick();
    this.#progressTimer = this.#clock.setTimer(() => this.#report(), 1000);
    return this;
  }

  stop(): Promise<HttpLoadSummary> {
    if (this.#offering) {
      this.#stoppedEarly = true;
      this.#endOffering();
    }
    return this.done;
  }

  /** Closes every connection (after done, or to abandon the run). */
  async close(): Promise<void> {
    await Promise.allSettled(this.#lanes.map((l) => l.transport.close()));
  }

  // --- pacing -----------------------------------------------------------------------------------------------------

  #tick(): void {
    this.#tickTimer = undefined;
    if (!this.#offering) return;
    this.#offerDue(this.#clock.now());
    if (!this.#offering) return;
    const next = this.#laHead < this.#la.length ? this.#la[this.#laHead]!.sentAt : Number.POSITIVE_INFINITY;
    const wait = Math.min(50, Math.max(1, next - this.#clock.now()));
    this.#tickTimer = this.#clock.setTimer(() => this.#tick(), wait);
  }

  #offerDue(now: number): void {
    for (;;) {
      if (this.#laHead >= this.#la.length && !this.#refill()) break;
      const e = this.#la[this.#laHead]!;
      if (e.sentAt >= this.endTime) {
        this.#exhausted = true;
        break;
      }
      if (e.sentAt > now) break;
      if (this.#inFlight >= this.#cfg.maxInFlightEvents) break;
      this.#laHead++;
      const lane = this.#lanes[e.lane]!;
      const b = lane.building;
      b.ids.push(e.id);
      b.values.push(e.value);
      b.userIds.push(e.userId);
      b.userSeqs.push(e.userSeq);
      if (b.ids.length >= this.#cfg.batch) {
        b.intendedAt = e.sentAt;
        this.#offer(lane, now);
      }
    }
    if (this.#exhausted && this.#laHead >= this.#la.length) this.#endOffering();
    else if (this.#exhausted && this.#la[this.#laHead]!.sentAt >= this.endTime) this.#endOffering();
  }

  /** Generates the next chunk of events. False when the schedule is exhausted. */
  #refill(): boolean {
    if (this.#exhausted) return false;
    const gen = this.#gen;
    const n = Math.min(CHUNK, gen.model.schedule.events - gen.position);
    if (n <= 0) {
      this.#exhausted = true;
      return false;
    }
    const b = gen.nextBatch(n);
    const used = b.bounds[2 * n]!;
    const bytes = Buffer.allocUnsafe(used);
    b.buffer.copy(bytes, 0, 0, used);
    this.#la = [];
    this.#laHead = 0;
    const lanes = this.#lanes.length;
    for (let i = 0; i < n; i++) {
      this.#la.push({
        value: bytes.subarray(b.bounds[2 * i + 1]!, b.bounds[2 * i + 2]!),
        id: `${b.producerId}-${b.firstIndex + i}`,
        userId: bytes.toString('latin1', b.bounds[2 * i]!, b.bounds[2 * i + 1]!),
        userSeq: b.userSeqs[i]!,
        lane: b.userIndices[i]! % lanes,
        sentAt: b.sentAt[i]!,
      });
    }
    this.#generated += n;
    return true;
  }

  /** The lane's building batch becomes a request: offered now, sent when the lane is free. */
  #offer(lane: HttpLane, now: number): void {
    const r = lane.building;
    lane.building = emptyReq();
    const h = this.#history;
    for (let i = 0; i < r.ids.length; i++) {
      h.record({
        kind: 'offered',
        time: now,
        eventId: r.ids[i]!,
        userId: r.userIds[i]!,
        userSeq: r.userSeqs[i]!,
        sentAt: r.intendedAt,
      });
    }
    const n = r.ids.length;
    this.#offered += n;
    this.#inFlight += n;
    if (this.#inFlight > this.#inFlightMax) this.#inFlightMax = this.#inFlight;
    const lag = Math.max(0, now - r.intendedAt);
    this.#lag.recordValue(Math.round(lag * 1000));
    if (lag > this.#maxLag) this.#maxLag = lag;
    if (lag > this.#cfg.lateOfferMs) this.#lateOffers++;
    this.#lastOffer = now;
    lane.queue.push(r);
    this.#pump(lane);
  }

  // --- sending ----------------------------------------------------------------------------------------------------

  #onIdle(lane: HttpLane): void {
    // The gate is called on a (re)connect too: a request still in flight then lost its connection.
    if (lane.inFlight !== undefined) {
      const elapsed = this.#clock.now() - lane.inFlight.writtenAt;
      this.#settle(
        lane,
        undefined,
        elapsed >= this.#cfg.timeoutMs
          ? `no response within ${this.#cfg.timeoutMs} ms`
          : 'the connection closed before the response',
      );
    }
    lane.idle = true;
    // Not from inside autocannon's own call stack: it may be mid-way through a response.
    queueMicrotask(() => this.#pump(lane));
  }

  #pump(lane: HttpLane): void {
    if (!lane.idle || lane.inFlight !== undefined || lane.queue.length === 0 || this.#finished) return;
    const r = lane.queue.shift()!;
    const parts: Buffer[] = [];
    for (let i = 0; i < r.values.length; i++) {
      if (i > 0) parts.push(NL);
      parts.push(r.values[i]!);
    }
    parts.push(NL);
    lane.idle = false;
    lane.inFlight = r;
    r.writtenAt = this.#clock.now();
    this.#requests++;
    this.#requestEvents += r.ids.length;
    // autocannon's own timeout (timeoutMs) replaces the connection and calls the gate; this one only guards against a
    // connection that never calls back at all (the lane then stays busy; the drain settles what it queued).
    this.#timers.set(
      lane,
      this.#clock.setTimer(
        () => this.#settle(lane, undefined, `no response within ${this.#cfg.timeoutMs} ms`),
        this.#cfg.timeoutMs + 2000,
      ),
    );
    try {
      lane.transport.send(Buffer.concat(parts));
    } catch (e) {
      this.#settle(lane, undefined, `could not send: ${(e as Error).message}`);
    }
  }

  #settle(lane: HttpLane, response: HttpResponse | undefined, message?: string): void {
    const r = lane.inFlight;
    if (r === undefined) return;
    lane.inFlight = undefined;
    this.#clock.clearTimer(this.#timers.get(lane));
    this.#timers.delete(lane);
    const time = this.#clock.now();
    const key = response === undefined ? 'none' : String(response.status);
    this.#statuses[key] = (this.#statuses[key] ?? 0) + 1;
    if (response !== undefined) {
      this.#req.recordValue(Math.max(0, Math.round((time - r.intendedAt) * 1000)));
      this.#svc.recordValue(Math.max(0, Math.round((time - r.writtenAt) * 1000)));
    }
    const o = outcomesOf(r.ids.length, response, message);
    this.#throttled += o.throttled;
    this.#rejected += o.rejected;
    const h = this.#history;
    let acked = 0;
    for (let i = 0; i < r.ids.length; i++) {
      const outcome = o.outcomes[i]!;
      if (outcome === 'acked') {
        h.record({ kind: 'outcome', time, eventId: r.ids[i]!, outcome, sentAt: r.intendedAt });
        acked++;
      } else {
        h.record({ kind: 'outcome', time, eventId: r.ids[i]!, outcome, sentAt: r.intendedAt, error: o.errors[i] });
        if (outcome === 'failed') this.#failed++;
        else this.#unknown++;
      }
    }
    if (acked > 0) this.#ack.recordValueWithCount(Math.max(0, Math.round((time - r.intendedAt) * 1000)), acked);
    this.#acked += acked;
    this.#inFlight -= r.ids.length;
    if (response === undefined) {
      // The connection is being replaced by autocannon (it calls the gate when the new one is up).
      lane.idle = false;
    }
    if (this.#offering) this.#offerDue(this.#clock.now());
    this.#maybeFinish();
  }

  // --- ending -----------------------------------------------------------------------------------------------------

  #endOffering(): void {
    if (!this.#offering) return;
    this.#offering = false;
    const now = this.#clock.now();
    this.#offerEnd = now;
    if (this.#tickTimer !== undefined) this.#clock.clearTimer(this.#tickTimer);
    this.#tickTimer = undefined;
    // The last partial batches: due at the last of their events (all already due).
    for (const lane of this.#lanes) {
      const b = lane.building;
      if (b.ids.length > 0) {
        b.intendedAt = Math.min(now, this.endTime);
        this.#offer(lane, now);
      }
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
      for (const r of lane.queue) {
        for (let i = 0; i < r.ids.length; i++) {
          this.#history.record({
            kind: 'outcome',
            time,
            eventId: r.ids[i]!,
            outcome: 'failed',
            sentAt: r.intendedAt,
            error: 'not sent: the drain timed out while it was queued',
          });
        }
        this.#failed += r.ids.length;
        this.#inFlight -= r.ids.length;
      }
      lane.queue = [];
      if (lane.inFlight !== undefined) this.#settle(lane, undefined, 'in flight when the drain timed out');
    }
    this.#maybeFinish();
  }

  #maybeFinish(): void {
    if (this.#finished || this.#offering || this.#inFlight > 0) return;
    this.#finished = true;
    if (this.#drainTimer !== undefined) this.#clock.clearTimer(this.#drainTimer);
    if (this.#progressTimer !== undefined) this.#clock.clearTimer(this.#progressTimer);
    for (const t of this.#timers.values()) this.#clock.clearTimer(t);
    this.#resolveDone(this.#summary());
  }

  #report(): void {
    if (this.#finished) return;
    const elapsed = Math.max(1, this.#clock.now() - this.startTime);
    this.#progress({
      phase: 'load',
      message: `http ${this.#offering ? 'offering' : 'draining'}: offered ${this.#offered}, acked ${this.#acked}, failed ${this.#failed}, unknown ${this.#unknown}, in flight ${this.#inFlight}, requests ${this.#requests}`,
      fraction: Math.min(1, elapsed / this.#cfg.durationMs),
      offered: this.#offered,
      acked: this.#acked,
      failed: this.#failed,
      unknown: this.#unknown,
      inFlight: this.#inFlight,
    });
    this.#progressTimer = this.#clock.setTimer(() => this.#report(), 1000);
  }

  #summary(): HttpLoadSummary {
    const endedAt = this.#clock.now();
    const offerEnd = Math.max(this.#offerEnd ?? endedAt, this.#lastOffer);
    const scheduleEnd = this.#stoppedEarly ? Math.min(offerEnd, this.endTime) : this.endTime;
    const window = Math.max(offerEnd, scheduleEnd) - this.startTime;
    return {
      via: 'http',
      url: this.#cfg.url.href,
      batch: this.#cfg.batch,
      connections: this.#lanes.length,
      producerIds: [this.#cfg.producerId],
      offered: this.#offered,
      acked: this.#acked,
      failed: this.#failed,
      unknown: this.#unknown,
      throttled: this.#throttled,
      rejected: this.#rejected,
      targetRate: round3(this.#cfg.targetRate),
      offeredRate: window > 0 ? round3((this.#offered * 1000) / window) : 0,
      scheduled: this.#scheduledBefore(scheduleEnd),
      scheduleLag: {
        maxMs: round3(this.#maxLag),
        p99Ms: this.#lag.totalCount === 0 ? 0 : round3(this.#lag.getValueAtPercentile(99) / 1000),
        lateOffers: this.#lateOffers,
        lateOfferMs: this.#cfg.lateOfferMs,
      },
      ackLatency: latencyOf(this.#ack),
      requests: this.#requests,
      meanBatch: this.#requests === 0 ? 0 : round3(this.#requestEvents / this.#requests),
      statuses: { ...this.#statuses },
      requestLatency: latencyOf(this.#req),
      serviceTime: latencyOf(this.#svc),
      inFlightMax: this.#inFlightMax,
      startedAt: this.startTime,
      endedAt,
      durationMs: round3(endedAt - this.startTime),
      ending: this.#stoppedEarly ? 'stopped' : 'completed',
      drainComplete: this.#drainComplete,
    };
  }

  /** Events of the schedule with sentAt < t. */
  #scheduledBefore(t: number): number {
    const s = this.#gen.model.schedule;
    let lo = 0;
    let hi = s.events;
    if (!Number.isFinite(hi)) {
      hi = 1;
      while (s.at(hi) < t) hi *= 2;
    }
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (s.at(mid) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
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
  const transport =
    options.transport ?? ((_lane: number, ev: TransportEvents) => autocannonTransport(cfg.url, cfg, ev));
  return loadHandle<HttpLoadSummary, { startTime: number }>(options.signal, async (started) => {
    progress({ phase: 'load', message: `http: checking ${cfg.url.origin}` });
    await probe(cfg.url, cfg.timeoutMs);
    const d = new HttpLoadDriver(cfg, { history: options.history, clock, progress, transport });
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
