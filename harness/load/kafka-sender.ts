/**
 * A lane's Kafka producer: one @platformatic/kafka Producer (idempotent, acks=all by default), replaced by a fresh
 * one (a new producer id) on reset. See driver.ts for why a reset follows every error.
 *
 * Broker faults: the producer bootstraps on every broker it is given (startLoad gives the whole cluster), and each
 * replacement starts the list at the next broker, so a dead or frozen broker cannot strand the lane; within one
 * session the client refreshes the metadata and follows a moved leader itself.
 */
import { Producer } from '@platformatic/kafka';
import type { Outcome } from '../history/index.ts';
import { type Bootstrap, bootstrapList, closeNow, rotate } from '../kafka/clients.ts';
import { securityFor } from '../kafka/security.ts';
import type { LaneSender, OutMessage } from './driver.ts';
import { describeError, produceOutcome } from './kafka-outcome.ts';
import type { Compression } from './options.ts';

export interface KafkaSenderOptions {
  /** One address or several (every broker: see the module comment). */
  bootstrap: Bootstrap;
  topic: string;
  clientId: string;
  idempotent: boolean;
  compression: Compression;
  acksTimeoutMs: number;
}

type BufferProducer = Producer<Buffer, Buffer, Buffer, Buffer>;

/** How long an idempotent lane's request may wait (broker side) before the client tries it again. */
const RETRY_AFTER_MS = 8000;

export class KafkaLaneSender implements LaneSender {
  #producer: BufferProducer;
  #closing: Promise<void>[] = [];
  /** Sessions replaced so far: the bootstrap list starts this far along. */
  #resets = 0;

  constructor(readonly options: KafkaSenderOptions) {
    this.#producer = this.#create();
  }

  #create(): BufferProducer {
    const o = this.options;
    return new Producer<Buffer, Buffer, Buffer, Buffer>({
      clientId: o.clientId,
      bootstrapBrokers: rotate(bootstrapList(o.bootstrap), this.#resets),
      ...securityFor(o.bootstrap),
      idempotent: o.idempotent,
      acks: -1,
      compression: o.compression,
      // The broker waits up to this for the ISR (REQUEST_TIMED_OUT after); the client gives up on a request after
      // requestTimeout. The driver's own deadline (acksTimeoutMs) settles the outcome either way. Idempotent, a
      // request is retried within the session with the same sequence numbers (the broker de-duplicates a repeat), so
      // it can be short: a request held by a killed leader, or by an ISR waiting for a dead follower to be dropped,
      // is tried again (on fresh metadata) within the deadline instead of holding the lane until it passes.
      timeout: Math.min(o.acksTimeoutMs, o.idempotent ? RETRY_AFTER_MS : 30_000),
      requestTimeout: Math.min(o.acksTimeoutMs, o.idempotent ? RETRY_AFTER_MS + 2000 : o.acksTimeoutMs),
      connectTimeout: Math.min(o.acksTimeoutMs, 5000),
      // Retries are idempotent within one session (same sequence numbers); the driver's deadline bounds them.
      retries: 1_000_000,
      retryDelay: 100,
      autocreateTopics: false,
    } as ConstructorParameters<typeof Producer<Buffer, Buffer, Buffer, Buffer>>[0]);
  }

  /** Connects, fetches the topic's partition count and (idempotent) the producer id, before the schedule starts. */
  async warmUp(): Promise<number> {
    const md = await this.#producer.metadata({ topics: [this.options.topic] });
    const partitions = md.topics.get(this.options.topic)?.partitionsCount ?? 0;
    if (this.options.idempotent && partitions > 0) await this.#producer.initIdempotentProducer({});
    return partitions;
  }

  send(messages: OutMessage[], done: (error?: unknown) => void): void {
    this.#producer.send({ messages }).then(
      () => done(),
      (error: unknown) => done(error ?? new Error('send failed without an error')),
    );
  }

  outcomes(error: unknown): (partition: number) => Outcome {
    return produceOutcome(error, this.options.topic);
  }

  describe(error: unknown): string {
    return describeError(error);
  }

  reset(): void {
    const old = this.#producer;
    this.#resets++;
    this.#producer = this.#create();
    this.#closing.push(closeNow(old));
  }

  async close(): Promise<void> {
    this.#closing.push(closeNow(this.#producer));
    await Promise.all(this.#closing);
  }
}
