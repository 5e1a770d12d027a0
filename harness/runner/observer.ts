/**
 * The observer: the harness's own read_committed consumer of the SUT's output, over the direct bootstrap (faults on
 * the SUT's connections never blind it). Each output record becomes an `observed` history record; a value that does
 * not decode is recorded as undecodable, never dropped.
 *
 * Latency note: `time` is when the observer received the record, so end-to-end latency includes the observer's own
 * fetch wait (maxWaitTime, 50 ms by default): a small, constant, documented bias towards the pessimistic side.
 */
import { randomUUID } from 'node:crypto';
import { Consumer } from '@platformatic/kafka';
import { decodeAvro, decodeConfluent, decodeJson } from '../../generators/schemas.ts';
import type { History } from '../history/index.ts';
import { closeNow } from '../kafka/clients.ts';

export interface DecodedEvent {
  eventId: string;
  userSeq: number;
  sentAt: number;
}

/** Decodes an output value; `null` means the caller keeps the record itself (nothing goes to the history yet). */
export type Decoder = (
  value: Buffer,
  meta: { key: string | undefined; partition: number; offset: number; time: number },
) => DecodedEvent | null;

/** Decoder for the copy contract: values are the generator's events, JSON or Confluent-framed Avro. */
export function eventDecoder(
  format: 'json' | 'avro',
  versionOfSchemaId: (id: number) => 1 | 2 | 3 | undefined,
): Decoder {
  if (format === 'json') {
    return (value) => {
      const e = decodeJson(value) as { event_id: string; user_seq: number; sent_at: number };
      return { eventId: e.event_id, userSeq: e.user_seq, sentAt: e.sent_at };
    };
  }
  return (value) => {
    const { schemaId, body } = decodeConfluent(value);
    const v = versionOfSchemaId(schemaId);
    if (v === undefined) throw new Error(`unknown schema id ${schemaId}`);
    const e = decodeAvro(body, v) as { event_id: string; user_seq: number; sent_at: number };
    return { eventId: e.event_id, userSeq: e.user_seq, sentAt: e.sent_at };
  };
}

export interface Observer {
  /** Records seen so far. */
  readonly count: number;
  /** Epoch ms of the last record seen (or of the observer's start). */
  readonly lastRecordAt: number;
  /** Resolves once nothing new arrived for `quietMs`, or at `deadline` (epoch ms); true if it went quiet. */
  waitQuiet(quietMs: number, deadline: number): Promise<boolean>;
  stop(): Promise<void>;
}

export async function startObserver(opts: {
  bootstrap: string;
  topic: string;
  history: History;
  decode: Decoder;
  /** Also hand every raw record to this (e.g. the attribution contract's collector). */
  onRecord?: (key: Buffer | undefined, value: Buffer, partition: number, offset: bigint) => void;
  maxWaitTimeMs?: number;
}): Promise<Observer> {
  const consumer = new Consumer({
    clientId: 'streamproof-observer',
    groupId: `streamproof-observer-${randomUUID()}`,
    bootstrapBrokers: [opts.bootstrap],
    maxWaitTime: opts.maxWaitTimeMs ?? 50,
    isolationLevel: 1,
    timeout: 15_000,
  });
  const stream = await consumer.consume({
    topics: [opts.topic],
    mode: 'earliest',
    autocommit: false,
    isolationLevel: 1,
  });
  let count = 0;
  let lastRecordAt = Date.now();
  let failure: Error | undefined;
  const h = opts.history;
  stream.on('data', (m) => {
    const now = Date.now();
    count++;
    lastRecordAt = now;
    const value = m.value as Buffer;
    const key = m.key ? (m.key as Buffer).toString('utf8') : undefined;
    const offset = Number(m.offset);
    try {
      const e = opts.decode(value, { key, partition: m.partition, offset, time: now });
      if (e)
        h.record({
          kind: 'observed',
          time: now,
          eventId: e.eventId,
          key,
          partition: m.partition,
          offset,
          userSeq: e.userSeq,
          sentAt: e.sentAt,
        });
    } catch (err) {
      h.record({
        kind: 'observed',
        time: now,
        eventId: undefined,
        key,
        partition: m.partition,
        offset,
        userSeq: undefined,
        sentAt: undefined,
        raw: value.subarray(0, 256).toString('base64'),
        decodeError: (err as Error).message,
      });
    }
    opts.onRecord?.(m.key as Buffer | undefined, value, m.partition, m.offset);
  });
  stream.on('error', (err: Error) => {
    failure = err;
  });
  return {
    get count() {
      return count;
    },
    get lastRecordAt() {
      return lastRecordAt;
    },
    async waitQuiet(quietMs, deadline) {
      // Quiet is measured from the later of the last record and this call: a pipeline that has written nothing
      // yet still gets the whole quiet period to start.
      const since = Date.now();
      for (;;) {
        if (failure) throw failure;
        const now = Date.now();
        if (now - Math.max(lastRecordAt, since) >= quietMs) return true;
        if (now >= deadline) return false;
        await new Promise((r) => setTimeout(r, Math.min(100, quietMs)));
      }
    },
    async stop() {
      await stream.close().catch(() => {});
      await closeNow(consumer);
    },
  };
}
