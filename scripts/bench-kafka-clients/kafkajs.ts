/** The kafkajs runners: produce, consume, the transactional loop, and its admin calls against Kafka 4.1. */
import { performance } from 'node:perf_hooks';
import { CompressionTypes, Kafka, type LogEntry, logLevel, Partitioners } from 'kafkajs';
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
import { errText, phaseTimeout, withTimeout } from './tools.ts';

/** kafkajs log lines at WARN and above, kept so the report can say what kafkajs complained about on Kafka 4.1. */
export const kafkajsLog = new Map<string, number>();
export function kafkajsClient(bootstrap: string, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: [bootstrap],
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const line = `${entry.label} [${entry.namespace}] ${entry.log.message}${
        (entry.log as { error?: string }).error ? `: ${(entry.log as { error?: string }).error}` : ''
      }`;
      kafkajsLog.set(line, (kafkajsLog.get(line) ?? 0) + 1);
    },
  });
}

export async function produceKafkajs(
  bootstrap: string,
  topic: string,
  n: number,
): Promise<Omit<ProduceResult, 'landed'>> {
  const producer = kafkajsClient(bootstrap, 'bench-kafkajs-producer').producer({
    idempotent: true,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    const { seconds, latencies } = await runBatches(n, opts.kafkajsInFlight, async (from, count) => {
      const messages = Array.from({ length: count }, (_, j) => record(from + j));
      await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages });
    });
    return produceSummary(n, seconds, latencies);
  } finally {
    await producer.disconnect();
  }
}

export async function consumeKafkajs(
  bootstrap: string,
  topic: string,
  n: number,
  group: string,
): Promise<ConsumeResult> {
  const consumer = kafkajsClient(bootstrap, 'bench-kafkajs-consumer').consumer({
    groupId: group,
    readUncommitted: false,
  });
  const started = performance.now();
  let first = 0;
  let seen = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Promise<number>((resolve) => {
      void consumer.run({
        autoCommit: true,
        eachBatch: async ({ batch }) => {
          if (seen === 0) first = performance.now();
          seen += batch.messages.length;
          if (seen >= n) resolve(performance.now());
        },
      });
    });
    const last = await withTimeout(done, phaseTimeout(n), 'kafkajs consume');
    return consumeSummary(seen, started, first, last);
  } finally {
    await consumer.disconnect();
  }
}

export async function txnKafkajs(
  bootstrap: string,
  input: string,
  output: string,
  n: number,
  id: string,
  retryMs: number | undefined,
) {
  const kafka = kafkajsClient(bootstrap, 'bench-kafkajs-txn');
  const producer = kafka.producer({
    idempotent: true,
    transactionalId: id,
    maxInFlightRequests: 1,
    ...(retryMs === undefined ? {} : { retry: { initialRetryTime: retryMs, retries: Number.MAX_SAFE_INTEGER } }),
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const group = `${id}-group`;
  const consumer = kafka.consumer({ groupId: group, readUncommitted: false });
  await producer.connect();
  await consumer.connect();
  let processed = 0;
  let transactions = 0;
  let joins = 0;
  const tracker = new RedeliveryTracker();
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joins++;
  });
  const started = performance.now();
  try {
    await consumer.subscribe({ topic: input, fromBeginning: true });
    const done = new Promise<number>((resolve, reject) => {
      void consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, isRunning, isStale }) => {
          if (!isRunning() || isStale() || batch.messages.length === 0) return;
          for (const m of batch.messages) tracker.see(batch.partition, BigInt(m.offset));
          const txn = await producer.transaction();
          try {
            await txn.send({
              topic: output,
              acks: -1,
              messages: batch.messages.map((m) => ({ key: m.key, value: transform(m.value!) })),
            });
            const lastOffset = BigInt(batch.messages[batch.messages.length - 1]!.offset);
            await txn.sendOffsets({
              consumerGroupId: group,
              topics: [
                { topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(lastOffset + 1n) }] },
              ],
            });
            await txn.commit();
          } catch (err) {
            await txn.abort().catch(() => {});
            reject(err);
            throw err;
          }
          transactions++;
          processed += batch.messages.length;
          if (processed >= n) resolve(performance.now());
        },
      });
    });
    const last = await withTimeout(done, phaseTimeout(n), 'kafkajs transactional loop');
    return {
      processed,
      transactions,
      seconds: (last - started) / 1000,
      group,
      joins,
      redelivered: tracker.redelivered,
    };
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
  }
}

// kafkajs against Kafka 4.1: connect, admin, groups (produce, consume and transactions are exercised above).

export interface CompatCheck {
  step: string;
  ok: boolean;
  detail: string;
}

export async function kafkajsCompat(
  bootstrap: string,
  groupWithOffsets: string,
  topicWithData: string,
): Promise<CompatCheck[]> {
  const checks: CompatCheck[] = [];
  const a = kafkajsClient(bootstrap, 'bench-kafkajs-admin').admin();
  const step = async (name: string, f: () => Promise<unknown>) => {
    try {
      const out = await withTimeout(f(), 20_000, name);
      checks.push({ step: name, ok: true, detail: JSON.stringify(out ?? null).slice(0, 160) });
    } catch (err) {
      checks.push({ step: name, ok: false, detail: errText(err) });
    }
  };
  await step('admin.connect', () => a.connect());
  await step('admin.describeCluster', async () => (await a.describeCluster()).brokers.length);
  await step('admin.createTopics', () =>
    a.createTopics({
      topics: [{ topic: 'kafkajs-compat', numPartitions: 3, replicationFactor: 1 }],
      waitForLeaders: true,
    }),
  );
  await step('admin.listTopics', async () => (await a.listTopics()).length);
  await step(
    'admin.fetchTopicMetadata',
    async () => (await a.fetchTopicMetadata({ topics: ['kafkajs-compat'] })).topics.length,
  );
  await step('admin.fetchTopicOffsets', async () => (await a.fetchTopicOffsets(topicWithData)).length);
  await step(
    'admin.fetchOffsets (group)',
    async () => (await a.fetchOffsets({ groupId: groupWithOffsets, topics: [topicWithData] }))[0]?.partitions.length,
  );
  await step('admin.listGroups', async () => (await a.listGroups()).groups.length);
  await step('admin.describeGroups', async () => (await a.describeGroups([groupWithOffsets])).groups[0]?.state);
  await step(
    'admin.describeConfigs',
    async () =>
      (await a.describeConfigs({ resources: [{ type: 2, name: topicWithData }], includeSynonyms: false })).resources
        .length,
  );
  await step('admin.createPartitions', () =>
    a.createPartitions({ topicPartitions: [{ topic: 'kafkajs-compat', count: 4 }] }),
  );
  await step('admin.deleteTopics', () => a.deleteTopics({ topics: ['kafkajs-compat'] }));
  await a.disconnect().catch(() => {});
  return checks;
}
