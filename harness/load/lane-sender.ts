/**
 * The Kafka form of the transport: a `LaneSender` is one producer instance (kafka-sender.ts: @platformatic/kafka's
 * Producer; fast-sender.ts: the produce protocol spoken directly). `kafkaTransport` makes one the engine's
 * `LaneTransport`: per-partition outcomes of a failed send, `unknown` for a send unanswered in time, and a new
 * producer session after any error or timeout, so an ambiguous request can never make the broker de-duplicate a
 * *later* batch that reuses its sequence numbers.
 */
import type { Outcome } from '../history/index.ts';
import { formatDuration } from '../util/duration.ts';
import { type LaneTransport, type OutMessage, uniformVerdict } from './transport.ts';

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

/** The engine's transport over a Kafka lane sender; `acksTimeoutMs` names the deadline in timeout messages. */
export function kafkaTransport(sender: LaneSender, acksTimeoutMs: number): LaneTransport<OutMessage> {
  const timedOut = uniformVerdict('unknown', `no answer within acksTimeoutMs (${formatDuration(acksTimeoutMs)})`, true);
  return {
    send: (msgs, done) => sender.send(msgs, done),
    settle(ending, request) {
      if ('timeout' in ending) return timedOut;
      const outcomeOf = sender.outcomes(ending.error);
      const message = sender.describe(ending.error);
      const msgs = request.msgs;
      return { outcome: (i) => outcomeOf(msgs[i]!.partition), error: () => message, reset: true };
    },
    reset: () => sender.reset(),
    close: () => sender.close(),
  };
}
