/** The @platformatic/kafka runners: produce, consume and the transactional loop. */
import { performance } from 'node:perf_hooks';
import { type Message, Consumer as PConsumer, Producer as PProducer } from '@platformatic/kafka';
import { closeNow } from '../../harness/kafka/clients.ts';
import {
  type ConsumeResult,
  consumeSummary,
  type ProduceResult,
  produceSummary,
  RedeliveryTracker,
  runBatches,
} from './measurements.ts';
import { opts } from './options.ts';
import { record, transform } from './records.ts';
import { phaseTimeout, withTimeout } from './tools.ts';

export async function producePlatformatic(
  bootstrap: string,
  topic: string,
  n: number,
  inFlight = opts.platformaticInFlight,
): Promise<Omit<ProduceResult, 'landed'>> {
  const producer = new PProducer({
    clientId: 'bench-platformatic-producer',
    bootstrapBrokers: [bootstrap],
    acks: -1,
    idempotent: true,
    compression: 'none',
    autocreateTopics: false,
  });
  try {
    const { seconds, latencies } = await runBatches(n, inFlight, async (from, count) => {
      const messages = Array.from({ length: count }, (_, j) => ({ topic, ...record(from + j) }));
      await producer.send({ messages });
    });
    return produceSummary(n, seconds, latencies);
  } finally {
    await closeNow(producer);
  }
}

export async function consumePlatformatic(
  bootstrap: string,
  topic: string,
  n: number,
  group: string,
): Promise<ConsumeResult> {
  const consumer = new PConsumer({
    clientId: 'bench-platformatic-consumer',
    groupId: group,
    bootstrapBrokers: [bootstrap],
    isolationLevel: 1,
    maxWaitTime: 500,
  });
  const started = performance.now();
  let first = 0;
  let seen = 0;
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: 1000 });
    const done = new Promise<number>((resolve, reject) => {
      stream.on('data', () => {
        if (seen === 0) first = performance.now();
        seen++;
        if (seen === n) resolve(performance.now());
      });
      stream.on('error', reject);
    });
    try {
      const last = await withTimeout(done, phaseTimeout(n), 'platformatic consume');
      return consumeSummary(seen, started, first, last);
    } finally {
      await stream.close().catch(() => {});
    }
  } finally {
    await closeNow(consumer);
  }
}

export async function txnPlatformatic(
  bootstrap: string,
  input: string,
  output: string,
  n: number,
  id: string,
  retryMs: number | undefined,
) {
  const group = `${id}-group`;
  const producer = new PProducer({
    clientId: 'bench-platformatic-txn',
    bootstrapBrokers: [bootstrap],
    transactionalId: id,
    idempotent: true,
    acks: -1,
    autocreateTopics: false,
    ...(retryMs === undefined ? {} : { retryDelay: retryMs }),
  });
  const consumer = new PConsumer({
    clientId: 'bench-platformatic-txn',
    groupId: group,
    bootstrapBrokers: [bootstrap],
    isolationLevel: 1,
    maxWaitTime: 500,
  });
  let processed = 0;
  let transactions = 0;
  let joins = 0;
  const tracker = new RedeliveryTracker();
  consumer.on('consumer:group:join', () => {
    joins++;
  });
  const started = performance.now();
  try {
    const stream = await consumer.consume({
      topics: [input],
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: false,
    });
    // The stream pushes; the loop takes what has arrived as one transaction, so batches grow with the backlog.
    const buffered: Message[] = [];
    let wake: (() => void) | undefined;
    let failed: unknown;
    stream.on('data', (m: Message) => {
      buffered.push(m);
      if (buffered.length >= opts.batch) stream.pause();
      wake?.();
    });
    stream.on('error', (err) => {
      failed = err;
      wake?.();
    });
    const loop = async () => {
      while (processed < n) {
        if (failed) throw failed;
        if (buffered.length === 0) {
          await new Promise<void>((r) => {
            wake = r;
          });
          wake = undefined;
          continue;
        }
        const batch = buffered.splice(0, opts.batch);
        for (const m of batch) tracker.see(m.partition, m.offset);
        if (stream.isPaused()) stream.resume();
        const txn = await producer.beginTransaction();
        try {
          await txn.addConsumer(consumer);
          await txn.send({
            messages: batch.map((m) => ({ topic: output, key: m.key, value: transform(m.value) })),
          });
          const lastPerPartition = new Map<number, Message>();
          for (const m of batch) lastPerPartition.set(m.partition, m);
          for (const m of lastPerPartition.values()) await txn.addOffset(m);
          await txn.commit();
        } catch (err) {
          await txn.abort().catch(() => {});
          throw err;
        }
        transactions++;
        processed += batch.length;
      }
      return performance.now();
    };
    try {
      const last = await withTimeout(loop(), phaseTimeout(n), 'platformatic transactional loop');
      return {
        processed,
        transactions,
        seconds: (last - started) / 1000,
        group,
        joins,
        redelivered: tracker.redelivered,
      };
    } finally {
      await stream.close().catch(() => {});
    }
  } finally {
    await closeNow(consumer);
    await closeNow(producer);
  }
}
