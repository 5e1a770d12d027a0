/**
 * ControlChannel: one run's control topic as a log every party reads from the start. `send` appends (acks=all,
 * idempotent), `waitFor` resolves with the first record (in topic order) a predicate accepts, now or later, or
 * rejects after its timeout with a message that says what was awaited.
 */
import { randomUUID } from 'node:crypto';
import { Consumer, Producer } from '@platformatic/kafka';
import { admin, closeNow, ensureTopic } from '../kafka/clients.ts';
import { securityFor } from '../kafka/security.ts';
import { StreamproofError } from '../util/errors.ts';
import { type ControlRecord, controlTopic, decodeControl, encodeControl } from './protocol.ts';

export interface ControlOpenOptions {
  /** Create the topic (the coordinator); others wait up to `waitMs` for it to exist. */
  create?: { replicas: number };
  waitMs?: number;
  /** Keep `chunk` records (the coordinator); workers drop them. */
  keepChunks?: boolean;
  clientId?: string;
}

interface Waiter {
  pred: (r: ControlRecord) => boolean;
  resolve: (r: ControlRecord) => void;
  fail: (e: Error) => void;
}

export class ControlChannel implements AsyncDisposable {
  readonly topic: string;
  /** Every record read so far, in topic order (chunks only with keepChunks). */
  readonly log: ControlRecord[] = [];
  #waiters = new Set<Waiter>();
  #listeners = new Set<(r: ControlRecord) => void>();
  #producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  #consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  #stream: { close(): Promise<void> } | undefined;
  #error: Error | undefined;
  #closed = false;

  private constructor(
    readonly bootstrap: string,
    readonly runId: string,
    clientId: string,
  ) {
    this.topic = controlTopic(runId);
    this.#producer = new Producer({
      clientId,
      bootstrapBrokers: [bootstrap],
      ...securityFor(bootstrap),
      acks: -1,
      idempotent: true,
      timeout: 15_000,
      retries: 5,
      retryDelay: 200,
      autocreateTopics: false,
    });
    this.#consumer = new Consumer({
      clientId,
      groupId: `${clientId}-${randomUUID()}`,
      bootstrapBrokers: [bootstrap],
      ...securityFor(bootstrap),
      maxWaitTime: 100,
      timeout: 15_000,
    });
  }

  static async open(bootstrap: string, runId: string, o: ControlOpenOptions = {}): Promise<ControlChannel> {
    const ch = new ControlChannel(bootstrap, runId, o.clientId ?? 'streamproof-control');
    try {
      if (o.create) {
        await ensureTopic(bootstrap, ch.topic, { partitions: 1, replicas: o.create.replicas });
      } else {
        await waitForTopic(bootstrap, ch.topic, o.waitMs ?? 60_000);
      }
      const stream = await ch.#consumer.consume({
        topics: [ch.topic],
        mode: 'earliest',
        autocommit: false,
        isolationLevel: 1,
      });
      ch.#stream = stream;
      stream.on('data', (m) => {
        let r: ControlRecord | undefined;
        try {
          r = decodeControl(runId, m.value as Buffer);
        } catch (e) {
          ch.#fail(e as Error);
          return;
        }
        if (r === undefined) return;
        if (r.type !== 'chunk' || o.keepChunks) ch.log.push(r);
        for (const l of ch.#listeners) l(r);
        for (const w of ch.#waiters) {
          if (w.pred(r)) {
            ch.#waiters.delete(w);
            w.resolve(r);
          }
        }
      });
      stream.on('error', (e: Error) => ch.#fail(e));
    } catch (e) {
      await ch.close();
      throw e;
    }
    return ch;
  }

  async send(...records: ControlRecord[]): Promise<void> {
    await this.#producer.send({
      messages: records.map((r) => ({
        topic: this.topic,
        key: Buffer.from(r.type),
        value: encodeControl(this.runId, r),
      })),
    });
  }

  /** Called for every record from now on (not for those already in `log`). */
  onRecord(listener: (r: ControlRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The first record in topic order that `pred` accepts; rejects with TIMEOUT naming `what` after `timeoutMs`. */
  waitFor<T extends ControlRecord>(
    pred: (r: ControlRecord) => r is T,
    timeoutMs: number,
    what: string,
    signal?: AbortSignal,
  ): Promise<T> {
    const found = this.log.find(pred);
    if (found) return Promise.resolve(found as T);
    if (this.#error) return Promise.reject(this.#error);
    return new Promise<T>((resolve, reject) => {
      const fail = (e: Error) => {
        this.#waiters.delete(w);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(e);
      };
      const w: Waiter = {
        pred,
        resolve: (r) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(r as T);
        },
        fail,
      };
      const timer = setTimeout(
        () => fail(new StreamproofError('TIMEOUT', `${what}: nothing on ${this.topic} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onAbort = () => fail(new StreamproofError('TIMEOUT', `${what}: aborted`));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(w);
    });
  }

  #fail(e: Error): void {
    if (this.#closed) return;
    this.#error = e instanceof StreamproofError ? e : new StreamproofError('INTERNAL', `${this.topic}: ${e.message}`);
    for (const w of this.#waiters) w.fail(this.#error);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#stream?.close().catch(() => {});
    await closeNow(this.#consumer);
    await closeNow(this.#producer);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

async function waitForTopic(bootstrap: string, topic: string, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  const a = admin(bootstrap, 'streamproof-worker-admin');
  let lastError = '';
  try {
    for (;;) {
      try {
        if ((await a.listTopics()).includes(topic)) return;
      } catch (e) {
        lastError = `: ${(e as Error).message}`;
      }
      if (Date.now() > deadline) {
        throw new StreamproofError(
          'TIMEOUT',
          `control topic ${topic} not found on ${bootstrap} within ${waitMs} ms${lastError}; is the run (streamproof run --workers N) started, and the run id right?`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await a.close().catch(() => {});
  }
}

/** Deletes a run's control topic (best effort: a stack that is going away takes it anyway). */
export async function deleteControlTopic(bootstrap: string, runId: string): Promise<void> {
  const a = admin(bootstrap, 'streamproof-control-admin');
  try {
    await a.deleteTopics({ topics: [controlTopic(runId)] });
  } catch {
    // best effort
  } finally {
    await a.close().catch(() => {});
  }
}
