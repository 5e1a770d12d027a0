/**
 * The HTTP form of the transport: one lane's keep-alive connection (http-connection.ts) as the pacing engine's
 * `LaneTransport`. A request's body is its events' values as NDJSON. The lane is ready only while its connection is
 * idle: one request in flight, so a user's events (one lane per user) reach the collector in user_seq order. Every
 * ending is read by `outcomesOf` (http-outcome.ts); the load's HTTP counters (statuses, throttled, rejected, request
 * latency from the intended time, service time from the write) are kept in the lanes' shared `HttpStats`. No verdict
 * resets anything: nothing is re-sent, and a connection that died is replaced by autocannon, which calls the gate
 * (`idle`) when the new one is up.
 */
import * as hdr from 'hdr-histogram-js';
import type { Clock } from './clock.ts';
import type { ConnectionEvents, HttpConnection, HttpResponse } from './http-connection.ts';
import { outcomesOf } from './http-outcome.ts';
import type { Ending, LaneTransport, SentRequest, Verdict } from './transport.ts';

/** The HTTP load's own counters, shared by its lanes. */
export class HttpStats {
  /** Responses by HTTP status; `none` = no response. */
  statuses: Record<string, number> = {};
  throttled = 0;
  rejected = 0;
  /** Per request with a response (µs): response time - intended time, and - time written. */
  readonly request = hdr.build({ bitBucketSize: 32, numberOfSignificantValueDigits: 3, autoResize: true });
  readonly service = hdr.build({ bitBucketSize: 32, numberOfSignificantValueDigits: 3, autoResize: true });
}

/** A request's end without a response: timeout, connection error or close, nothing written. */
class NoResponse {
  constructor(readonly message: string) {}
}

const NL = Buffer.from('\n');

export class HttpLaneTransport implements LaneTransport<Buffer> {
  readonly connection: HttpConnection;
  #clock: Clock;
  #timeoutMs: number;
  #stats: HttpStats;
  #idle = false;
  /** The engine's callback of the request in flight, until it is answered or settled. */
  #done: ((answer: unknown) => void) | undefined;
  #writtenAt = 0;
  #wake: () => void = () => {};

  constructor(
    lane: number,
    connect: (lane: number, events: ConnectionEvents) => HttpConnection,
    clock: Clock,
    timeoutMs: number,
    stats: HttpStats,
  ) {
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
    this.#stats = stats;
    this.connection = connect(lane, {
      idle: () => this.#onIdle(),
      response: (r) => this.#answer(r),
      noResponse: (m) => this.#answer(new NoResponse(m)),
    });
  }

  ready(): boolean {
    return this.#idle;
  }

  onReady(wake: () => void): void {
    this.#wake = wake;
  }

  send(lines: Buffer[], done: (answer?: unknown) => void): void {
    const parts: Buffer[] = [];
    for (let i = 0; i < lines.length; i++) {
      if (i > 0) parts.push(NL);
      parts.push(lines[i]!);
    }
    parts.push(NL);
    this.#idle = false;
    this.#done = done;
    this.#writtenAt = this.#clock.now();
    try {
      this.connection.send(Buffer.concat(parts));
    } catch (e) {
      this.#answer(new NoResponse(`could not send: ${(e as Error).message}`));
    }
  }

  settle(ending: Ending, request: SentRequest<Buffer>, time: number): Verdict {
    // Settled: an answer arriving later (after a timeout) is ignored.
    this.#done = undefined;
    let response: HttpResponse | undefined;
    let message: string | undefined;
    if ('timeout' in ending) {
      message =
        ending.timeout === 'drain' ? 'in flight when the drain timed out' : `no response within ${this.#timeoutMs} ms`;
    } else if (ending.error instanceof NoResponse) message = ending.error.message;
    else if (typeof (ending.error as HttpResponse | undefined)?.status === 'number') {
      response = ending.error as HttpResponse;
    } else message = `could not send: ${(ending.error as Error)?.message ?? String(ending.error)}`;
    const s = this.#stats;
    const key = response === undefined ? 'none' : String(response.status);
    s.statuses[key] = (s.statuses[key] ?? 0) + 1;
    if (response !== undefined) {
      s.request.recordValue(Math.max(0, Math.round((time - request.sentAt[0]!) * 1000)));
      s.service.recordValue(Math.max(0, Math.round((time - request.writtenAt) * 1000)));
    } else {
      // The connection is being replaced by autocannon (it calls the gate when the new one is up).
      this.#idle = false;
    }
    const o = outcomesOf(request.msgs.length, response, message);
    s.throttled += o.throttled;
    s.rejected += o.rejected;
    return { outcome: (i) => o.outcomes[i]!, error: (i) => o.errors[i], reset: false };
  }

  reset(): void {}

  close(): Promise<void> {
    return this.connection.close();
  }

  #answer(answer: HttpResponse | NoResponse): void {
    const done = this.#done;
    if (done === undefined) return;
    this.#done = undefined;
    done(answer);
  }

  #onIdle(): void {
    // The gate is called on a (re)connect too: a request still in flight then lost its connection.
    if (this.#done !== undefined) {
      const elapsed = this.#clock.now() - this.#writtenAt;
      this.#answer(
        new NoResponse(
          elapsed >= this.#timeoutMs
            ? `no response within ${this.#timeoutMs} ms`
            : 'the connection closed before the response',
        ),
      );
    }
    this.#idle = true;
    // Not from inside autocannon's own call stack: it may be mid-way through a response.
    queueMicrotask(() => this.#wake());
  }
}
