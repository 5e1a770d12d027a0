/**
 * The transport interface: what the pacing engine (pacing-engine.ts) drives, one instance per lane. The engine
 * decides when each request leaves and which events it carries; a transport moves the request and says what its
 * answer means for each event. Implementations: the Kafka producers (kafka-sender.ts, @platformatic/kafka; and
 * fast-sender.ts, the produce protocol spoken directly), both through `LaneSender` (lane-sender.ts), and HTTP
 * (http-transport.ts, autocannon connections to an ingest endpoint).
 */
import type { Outcome } from '../history/index.ts';

/** A Kafka record for one partition of one topic: the Kafka transports' message (`M`). */
export interface OutMessage {
  topic: string;
  key: Buffer;
  value: Buffer;
  partition: number;
}

/** A request handed to a transport, as the engine tracks it. Read-only for the transport. */
export interface SentRequest<M> {
  readonly msgs: readonly M[];
  /** Intended send time of each event (ms epoch): the latency of the event counts from it. */
  readonly sentAt: readonly number[];
  /** When the engine handed the request to the transport. */
  readonly writtenAt: number;
}

/**
 * How a request ended, other than every event accepted: the transport's answer (whatever it passed to `done`), or
 * no answer in time (`request`: within the engine's request timeout; `drain`: before the drain timed out).
 */
export type Ending = { error: unknown } | { timeout: 'request' | 'drain' };

/** What an ending means for each event of the request, by its index in the request. */
export interface Verdict {
  outcome(i: number): Outcome;
  /** Why, for an event not acked (recorded in the History). */
  error(i: number): string | undefined;
  /**
   * The lane's session may now be out of step with the server (Kafka sequence numbers): the engine resets it, once
   * per session, and never re-sends an event.
   */
  reset: boolean;
}

/** `M` is what the transport sends per event: a Kafka record (`OutMessage`), an NDJSON line (HTTP). */
export interface LaneTransport<M> {
  /**
   * Sends one request. `done()` when every event was accepted, `done(answer)` otherwise (any answer: `settle` reads
   * it). Called at most once; the engine ignores a call after it settled the request itself (timeout, drain).
   */
  send(msgs: M[], done: (answer?: unknown) => void): void;
  /** Reads a request's ending (called once per request not wholly accepted; may count the transport's own stats). */
  settle(ending: Ending, request: SentRequest<M>, time: number): Verdict;
  /** Drop the session after a verdict asking for it (a new producer id; requests in flight are abandoned). */
  reset(): void;
  close(): Promise<void>;
  /** False while the lane cannot take a request (HTTP: its connection is busy or reconnecting). Absent: always. */
  ready?(): boolean;
  /** Registers the engine's wake-up, called when `ready()` turns true. */
  onReady?(wake: () => void): void;
}

/** Every event of the request gets `outcome`, with one message. */
export function uniformVerdict(outcome: Outcome, message: string | undefined, reset: boolean): Verdict {
  return { outcome: () => outcome, error: () => message, reset };
}
