/**
 * Kafka client choice, measured: kafkajs against @platformatic/kafka on the real stack, with Kafka's own
 * ProducerPerformance on the same broker as the ceiling.
 *
 *   npx tsx scripts/bench-kafka-clients.ts [--records N] [--reps R] [--three] [--json]
 *
 * The model: one stack per run (1 broker; `--three` adds a 3-broker stack for the transactional loop and a broker
 * kill). Every measurement runs once per repetition, clients interleaved (the order flips each repetition), and the
 * table reports the median, because the machine is shared and its load moves under us. Records are 100-byte values
 * keyed by user (seeded, so every client sends the same keys in the same order), acks=all, idempotent, no compression.
 * Each phase has a timeout and the whole run a time budget; a phase that runs out is reported, never waited for.
 * Only 127.0.0.1 is contacted: the stack's own brokers.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { type Message, Consumer as PConsumer, Producer as PProducer } from '@platformatic/kafka';
import { CompressionTypes, Kafka, type LogEntry, logLevel, Partitioners } from 'kafkajs';
import { runProducerPerformance } from '../harness/bench/producer-performance.ts';
import { closeNow, ensureTopic } from '../harness/kafka/clients.ts';
import { type StartedStack, startStack } from '../harness/stack/stack.ts';

type ClientName = 'kafkajs' | 'platformatic';

interface Options {
  records: number;
  txnRecords: number;
  reps: number;
  batch: number;
  kafkajsInFlight: number;
  platformaticInFlight: number;
  partitions: number;
  users: number;
  three: boolean;
  budgetSeconds: number;
  json: boolean;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      records: { type: 'string' },
      'txn-records': { type: 'string' },
      reps: { type: 'string' },
      batch: { type: 'string' },
      'kafkajs-in-flight': { type: 'string' },
      'platformatic-in-flight': { type: 'string' },
      partitions: { type: 'string' },
      users: { type: 'string' },
      three: { type: 'boolean', default: false },
      budget: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const int = (name: string, raw: string | undefined, def: number, min = 1) => {
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) {
      process.stderr.write(`--${name}: expected an integer >= ${min}, got "${raw}"\n`);
      process.exit(64);
    }
    return n;
  };
  const records = int('records', values.records, 500_000);
  return {
    records,
    txnRecords: int('txn-records', values['txn-records'], Math.min(records, 100_000)),
    reps: int('reps', values.reps, 3, 0),
    batch: int('batch', values.batch, 5_000),
    kafkajsInFlight: int('kafkajs-in-flight', values['kafkajs-in-flight'], 4),
    platformaticInFlight: int('platformatic-in-flight', values['platformatic-in-flight'], 1),
    partitions: int('partitions', values.partitions, 6),
    users: int('users', values.users, 10_000),
    three: values.three ?? false,
    budgetSeconds: int('budget', values.budget, 1_800),
    json: values.json ?? false,
  };
}

const opts = readOptions();
const deadline = Date.now() + opts.budgetSeconds * 1000;
const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ---------------------------------------------------------------------------------------------------------------------
// Records: seeded, identical for every client.

const VALUE_BYTES = 100;
const userKeys: Buffer[] = Array.from({ length: opts.users }, (_, i) =>
  Buffer.from(`user-${String(i).padStart(6, '0')}`),
);

/** The user of record i: a fixed multiplicative hash, so every run and every client sees the same key sequence. */
function userOf(i: number): number {
  return Math.imul(i + 1, 2654435761) >>> 0;
}

function record(i: number): { key: Buffer; value: Buffer } {
  const value = Buffer.alloc(VALUE_BYTES, 0x61);
  value.writeUInt32BE(i, 0);
  return { key: userKeys[userOf(i) % opts.users]!, value };
}

// ---------------------------------------------------------------------------------------------------------------------
// Small tools.

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** A phase may take this long: generous for a slow shared machine, but bounded and never past the run's budget. */
function phaseTimeout(records: number): number {
  const wanted = Math.max(60_000, (records / 2_000) * 1000);
  return Math.max(5_000, Math.min(wanted, deadline - Date.now()));
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx]!;
}

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function errText(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    const errors = (err as Error & { errors?: unknown[] }).errors;
    const inner = errors?.length ? `: ${errors.map(errText).join('; ')}` : cause ? ` (cause: ${errText(cause)})` : '';
    return `${err.name}: ${err.message}${inner}`.slice(0, 400);
  }
  return String(err);
}

function loadavg(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = os.loadavg();
  return [Number(a.toFixed(2)), Number(b.toFixed(2)), Number(c.toFixed(2))];
}

/** kafkajs log lines at WARN and above, kept so the report can say what kafkajs complained about on Kafka 4.1. */
const kafkajsLog = new Map<string, number>();
function kafkajsClient(bootstrap: string, clientId: string): Kafka {
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

// ---------------------------------------------------------------------------------------------------------------------
// 1. Produce.

interface ProduceResult {
  records: number;
  seconds: number;
  recordsPerSec: number;
  mbPerSec: number;
  batchP50Ms: number;
  batchP99Ms: number;
  /** Records found in the topic afterwards (end offsets); must equal `records`. */
  landed: number;
}

async function runBatches(
  n: number,
  inFlight: number,
  send: (from: number, count: number) => Promise<void>,
): Promise<{ seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < n) {
      const from = next;
      const count = Math.min(opts.batch, n - from);
      next += count;
      const t = performance.now();
      await send(from, count);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { seconds: (performance.now() - started) / 1000, latencies: latencies.sort((a, b) => a - b) };
}

async function produceKafkajs(bootstrap: string, topic: string, n: number): Promise<Omit<ProduceResult, 'landed'>> {
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

async function producePlatformatic(
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

function produceSummary(n: number, seconds: number, latencies: number[]): Omit<ProduceResult, 'landed'> {
  return {
    records: n,
    seconds,
    recordsPerSec: n / seconds,
    mbPerSec: (n * VALUE_BYTES) / seconds / 1e6,
    batchP50Ms: quantile(latencies, 0.5),
    batchP99Ms: quantile(latencies, 0.99),
  };
}

/** Sum of end offsets minus start offsets: the records a non-transactional topic holds. */
async function topicRecords(bootstrap: string, topic: string): Promise<number> {
  const c = new PConsumer({
    clientId: 'bench-offsets',
    groupId: `bench-offsets-${topic}`,
    bootstrapBrokers: [bootstrap],
  });
  try {
    const ends = await c.listOffsets({ topics: [topic], isolationLevel: 0 });
    const starts = await c.listOffsets({ topics: [topic], timestamp: -2n, isolationLevel: 0 });
    const e = ends.get(topic) ?? [];
    const s = starts.get(topic) ?? [];
    return e.reduce((sum, off, i) => sum + Number(off - (s[i] ?? 0n)), 0);
  } finally {
    await closeNow(c);
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// 2. Consume (a consumer group from the start, read_committed).

interface ConsumeResult {
  records: number;
  /** From the call to the last record, group join included. */
  seconds: number;
  recordsPerSec: number;
  /** From the first record to the last: the steady fetch rate. */
  steadyPerSec: number;
  firstRecordMs: number;
}

function consumeSummary(n: number, started: number, first: number, last: number): ConsumeResult {
  return {
    records: n,
    seconds: (last - started) / 1000,
    recordsPerSec: n / ((last - started) / 1000),
    steadyPerSec: n / ((last - first) / 1000),
    firstRecordMs: first - started,
  };
}

async function consumeKafkajs(bootstrap: string, topic: string, n: number, group: string): Promise<ConsumeResult> {
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

async function consumePlatformatic(bootstrap: string, topic: string, n: number, group: string): Promise<ConsumeResult> {
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

// ---------------------------------------------------------------------------------------------------------------------
// 3. Transactional consume-transform-produce: read input, write output, commit offsets in the transaction.

interface TxnResult {
  input: number;
  /** Records the consumer handed to the loop at or below an offset the loop had already processed (redelivery). */
  redelivered: number;
  /** Group joins of the loop's consumer (1 without rebalances). */
  joins: number;
  seconds: number;
  recordsPerSec: number;
  transactions: number;
  /** Read back with read_committed: records in the output, distinct input sequence numbers among them. */
  output: number;
  distinct: number;
  /** Offsets the group committed through the transactions, summed over partitions, against the input's end. */
  committed: number;
  correct: boolean;
}

/** Per partition, the highest input offset processed so far: a record at or below it is a redelivery. */
class RedeliveryTracker {
  readonly #last = new Map<number, bigint>();
  redelivered = 0;
  see(partition: number, offset: bigint): void {
    const last = this.#last.get(partition);
    if (last !== undefined && offset <= last) this.redelivered++;
    else this.#last.set(partition, offset);
  }
}

function transform(value: Buffer): Buffer {
  // "transform": the output keeps the input sequence number (so duplicates are detectable) and marks the record.
  const out = Buffer.from(value);
  out[4] = 0x54;
  return out;
}

async function txnKafkajs(
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

async function txnPlatformatic(
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

/** Read the output with read_committed until idle; count records and distinct input sequence numbers. */
async function verifyTxn(
  bootstrap: string,
  input: string,
  output: string,
  n: number,
  group: string,
): Promise<{ output: number; distinct: number; committed: number }> {
  const consumer = new PConsumer({
    clientId: 'bench-verify',
    groupId: `${group}-verify`,
    bootstrapBrokers: [bootstrap],
    isolationLevel: 1,
    maxWaitTime: 200,
  });
  const seen = new Uint8Array(n);
  let count = 0;
  let distinct = 0;
  try {
    const stream = await consumer.consume({ topics: [output], mode: 'earliest', autocommit: false });
    await new Promise<void>((resolve) => {
      let idle: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(idle);
        idle = setTimeout(resolve, count >= n ? 1_500 : 10_000);
      };
      arm();
      stream.on('data', (m: Message) => {
        count++;
        const seq = m.value.readUInt32BE(0);
        if (seq < n && seen[seq] === 0) {
          seen[seq] = 1;
          distinct++;
        }
        arm();
      });
      stream.on('error', () => resolve());
    });
    await stream.close().catch(() => {});
  } finally {
    await closeNow(consumer);
  }
  // The loop's own group, asked without joining it: what its transactions committed.
  const group0 = new PConsumer({ clientId: 'bench-verify', groupId: group, bootstrapBrokers: [bootstrap] });
  try {
    const committed = await group0.listCommittedOffsets({
      topics: [{ topic: input, partitions: Array.from({ length: opts.partitions }, (_, i) => i) }],
    });
    const offs = committed.get(input) ?? [];
    return { output: count, distinct, committed: offs.reduce((s, o) => s + Math.max(0, Number(o)), 0) };
  } finally {
    await closeNow(group0);
  }
}

/**
 * Both clients retry CONCURRENT_TRANSACTIONS (the broker still completing the previous commit when the next
 * transaction adds its partitions) after a fixed pause: kafkajs 300 ms (its `retry.initialRetryTime`), platformatic
 * 1000 ms (its `retryDelay`); the Java client retries that error after 20 ms. The `-retry20` variants measure each
 * client at the Java client's pace.
 */
type TxnVariant = ClientName | 'kafkajs-retry20' | 'platformatic-retry20';
const txnVariants: [TxnVariant, TxnVariant][] = [
  ['kafkajs', 'platformatic'],
  ['kafkajs-retry20', 'platformatic-retry20'],
];

async function txnRun(
  client: TxnVariant,
  bootstrap: string,
  input: string,
  n: number,
  tag: string,
  replicas: number,
): Promise<TxnResult> {
  const output = `txn-out-${client}-${tag}`;
  await ensureTopic(bootstrap, output, { partitions: opts.partitions, replicas });
  const id = `bench-${client}-${tag}`;
  const r = client.startsWith('platformatic')
    ? await txnPlatformatic(bootstrap, input, output, n, id, client.endsWith('retry20') ? 20 : undefined)
    : await txnKafkajs(bootstrap, input, output, n, id, client.endsWith('retry20') ? 20 : undefined);
  const v = await verifyTxn(bootstrap, input, output, n, r.group);
  return {
    input: n,
    seconds: r.seconds,
    recordsPerSec: r.processed / r.seconds,
    transactions: r.transactions,
    redelivered: r.redelivered,
    joins: r.joins,
    output: v.output,
    distinct: v.distinct,
    committed: v.committed,
    correct: v.output === n && v.distinct === n && v.committed === n,
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// 4. kafkajs against Kafka 4.1: connect, admin, groups (produce, consume and transactions are exercised above).

interface CompatCheck {
  step: string;
  ok: boolean;
  detail: string;
}

async function kafkajsCompat(
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

// ---------------------------------------------------------------------------------------------------------------------
// 5. Kafka's ProducerPerformance: the reference ceiling on the same broker.

interface JavaResult {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgMs: number;
  p50Ms: number;
  p99Ms: number;
  summary: string;
}

async function javaProducerPerformance(stack: StartedStack, topic: string, n: number): Promise<JavaResult> {
  return runProducerPerformance({
    classpath: stack.status().toolsClasspath,
    bootstrap: stack.bootstrap,
    topic,
    records: n,
    recordSize: VALUE_BYTES,
    timeoutMs: phaseTimeout(n),
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// 6. A broker of a 3-broker stack is killed under a long-lived producer: how long until acks resume.

interface FailoverResult {
  killedBroker: number;
  /** Seconds from the kill to the first ack of a send issued after the kill. */
  recoverySeconds: number;
  /** Longest gap between two acks around the kill. */
  maxAckGapSeconds: number;
  errors: number;
  firstError: string;
  acked: number;
}

async function failover(
  client: ClientName,
  stack: StartedStack,
  topic: string,
  broker: number,
): Promise<FailoverResult> {
  let send: (from: number) => Promise<void>;
  let close: () => Promise<void>;
  if (client === 'kafkajs') {
    const p = kafkajsClient(stack.bootstrap, 'bench-kafkajs-failover').producer({
      idempotent: true,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await p.connect();
    send = async (from) => {
      await p.send({ topic, acks: -1, messages: Array.from({ length: 100 }, (_, j) => record(from + j)) });
    };
    close = () => p.disconnect();
  } else {
    const p = new PProducer({
      clientId: 'bench-platformatic-failover',
      bootstrapBrokers: [stack.bootstrap],
      idempotent: true,
    });
    send = async (from) => {
      await p.send({ messages: Array.from({ length: 100 }, (_, j) => ({ topic, ...record(from + j) })) });
    };
    close = () => closeNow(p);
  }
  let stop = false;
  let killedAt = Number.POSITIVE_INFINITY;
  let recoveredAt = Number.NaN;
  let lastAck = performance.now();
  let maxGap = 0;
  let errors = 0;
  let firstError = '';
  let acked = 0;
  const loop = async () => {
    let i = 0;
    while (!stop) {
      const issued = performance.now();
      try {
        await send(i);
        const now = performance.now();
        maxGap = Math.max(maxGap, now - lastAck);
        lastAck = now;
        acked += 100;
        if (issued > killedAt && Number.isNaN(recoveredAt)) recoveredAt = now;
      } catch (err) {
        errors++;
        firstError ||= errText(err);
        await new Promise((r) => setTimeout(r, 100));
      }
      i += 100;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const running = loop();
  try {
    await new Promise((r) => setTimeout(r, 3_000));
    killedAt = performance.now();
    await stack.broker(broker).kill();
    const until = Date.now() + 45_000;
    while (Number.isNaN(recoveredAt) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 2_000));
  } finally {
    stop = true;
    await withTimeout(running, 60_000, `${client} failover loop`).catch(() => {});
    await close().catch(() => {});
    await stack.broker(broker).start();
  }
  return {
    killedBroker: broker,
    recoverySeconds: (recoveredAt - killedAt) / 1000,
    maxAckGapSeconds: maxGap / 1000,
    errors,
    firstError,
    acked,
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// The run.

interface Rep {
  rep: number;
  order: string[];
  loadavg: [number, number, number];
  produce: Partial<Record<ClientName, ProduceResult | { error: string }>>;
  consume: Partial<Record<ClientName, ConsumeResult | { error: string }>>;
  txn: Partial<Record<TxnVariant, TxnResult | { error: string }>>;
  java?: JavaResult | { error: string };
}

async function attempt<T>(what: string, f: () => Promise<T>): Promise<T | { error: string }> {
  if (Date.now() > deadline - 5_000) return { error: 'skipped: time budget spent' };
  try {
    return await f();
  } catch (err) {
    log(`${what} failed: ${errText(err)}`);
    return { error: errText(err) };
  }
}

async function fillInput(bootstrap: string, topic: string, n: number, replicas: number): Promise<void> {
  await ensureTopic(bootstrap, topic, { partitions: opts.partitions, replicas });
  // One send in flight: concurrent sends on an idempotent @platformatic/kafka 1.x producer reuse sequence numbers.
  await producePlatformatic(bootstrap, topic, n, 1);
}

async function oneBroker(): Promise<{ reps: Rep[]; compat: CompatCheck[]; brokerLogHits: string[] }> {
  log(`starting a 1-broker stack`);
  await using stack = await startStack({ brokers: 1, registry: false });
  running = stack;
  const b = stack.bootstrap;
  log(`stack ready at ${b} (${stack.status().startSeconds.toFixed(1)} s)`);
  const reps: Rep[] = [];
  const clients: ClientName[] = ['kafkajs', 'platformatic'];
  for (let r = 0; r < opts.reps; r++) {
    const order: string[] = r % 2 === 0 ? [...clients, 'java'] : ['java', ...[...clients].reverse()];
    const rep: Rep = { rep: r + 1, order, loadavg: loadavg(), produce: {}, consume: {}, txn: {} };
    log(`rep ${r + 1}/${opts.reps}, order ${order.join(' > ')}, loadavg ${rep.loadavg.join(' ')}`);
    const txnInput = `txn-in-${r}`;
    await fillInput(b, txnInput, opts.txnRecords, 1);
    for (const who of order) {
      if (who === 'java') {
        const topic = `produce-java-${r}`;
        await ensureTopic(b, topic, { partitions: opts.partitions, replicas: 1 });
        rep.java = await attempt('java produce', () => javaProducerPerformance(stack, topic, opts.records));
        log(`  java: ${JSON.stringify(rep.java)}`);
        continue;
      }
      const client = who as ClientName;
      const topic = `produce-${client}-${r}`;
      await ensureTopic(b, topic, { partitions: opts.partitions, replicas: 1 });
      rep.produce[client] = await attempt(`${client} produce`, async () => {
        const p =
          client === 'kafkajs'
            ? await withTimeout(produceKafkajs(b, topic, opts.records), phaseTimeout(opts.records), 'kafkajs produce')
            : await withTimeout(
                producePlatformatic(b, topic, opts.records),
                phaseTimeout(opts.records),
                'platformatic produce',
              );
        return { ...p, landed: await topicRecords(b, topic) };
      });
      log(`  ${client} produce: ${JSON.stringify(rep.produce[client])}`);
      // Both clients read the same topic (the one platformatic wrote last rep is as good as any): the one each wrote.
      const group = `consume-${client}-${r}`;
      rep.consume[client] = await attempt(`${client} consume`, () =>
        client === 'kafkajs'
          ? consumeKafkajs(b, topic, opts.records, group)
          : consumePlatformatic(b, topic, opts.records, group),
      );
      log(`  ${client} consume: ${JSON.stringify(rep.consume[client])}`);
      for (const variant of [client, `${client}-retry20` as const]) {
        rep.txn[variant] = await attempt(`${variant} txn`, () =>
          txnRun(variant, b, txnInput, opts.txnRecords, `1b-${r}`, 1),
        );
        log(`  ${variant} txn: ${JSON.stringify(rep.txn[variant])}`);
      }
    }
    rep.loadavg = loadavg();
    reps.push(rep);
  }
  log('kafkajs admin checks');
  const compat = await kafkajsCompat(b, 'consume-kafkajs-0', 'produce-kafkajs-0');
  const brokerLogHits = grepBrokerLogs(stack);
  return { reps, compat, brokerLogHits };
}

/** Lines in the broker logs that say a client used a request version the broker does not support. */
function grepBrokerLogs(stack: StartedStack): string[] {
  const hits: string[] = [];
  for (const broker of stack.status().kafka.brokers) {
    try {
      for (const line of readFileSync(broker.log, 'utf8').split('\n')) {
        if (/unsupported version|UnsupportedVersion|InvalidRequest/i.test(line)) hits.push(line.slice(0, 300));
      }
    } catch {
      // the log may have been rotated away; the check is best effort
    }
  }
  return hits.slice(0, 20);
}

async function threeBrokers(): Promise<{
  txn: Partial<Record<TxnVariant, TxnResult | { error: string }>>;
  failover: Partial<Record<ClientName, FailoverResult | { error: string }>>;
  loadavg: [number, number, number];
}> {
  log('starting a 3-broker stack');
  await using stack = await startStack({ brokers: 3, registry: false });
  running = stack;
  const b = stack.bootstrap;
  const n = opts.txnRecords;
  await fillInput(b, 'txn-in-3b', n, 3);
  const txn: Partial<Record<TxnVariant, TxnResult | { error: string }>> = {};
  for (const client of txnVariants.flat()) {
    txn[client] = await attempt(`${client} txn (3 brokers)`, () => txnRun(client, b, 'txn-in-3b', n, '3b', 3));
    log(`  ${client} txn (3 brokers): ${JSON.stringify(txn[client])}`);
  }
  const fo: Partial<Record<ClientName, FailoverResult | { error: string }>> = {};
  await ensureTopic(b, 'failover', { partitions: opts.partitions, replicas: 3 });
  for (const client of ['kafkajs', 'platformatic'] as const) {
    // Broker 1 is the bootstrap; kill broker 2, which leads about a third of the partitions.
    fo[client] = await attempt(`${client} failover`, () => failover(client, stack, 'failover', 2));
    log(`  ${client} failover: ${JSON.stringify(fo[client])}`);
  }
  return { txn, failover: fo, loadavg: loadavg() };
}

// ---------------------------------------------------------------------------------------------------------------------
// Report.

function pick<T>(reps: Rep[], f: (r: Rep) => T | { error: string } | undefined, g: (t: T) => number): number {
  return median(
    reps.map((r) => {
      const v = f(r);
      return v && !('error' in (v as object)) ? g(v as T) : Number.NaN;
    }),
  );
}

function fmt(x: number, digits = 0): string {
  if (!Number.isFinite(x)) return 'n/a';
  return x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** The stack now running, so a signal can stop it (children also die with us through the stack's lifeline). */
let running: StartedStack | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: stopping the stack`);
    void (running?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  const startLoad = loadavg();
  log(`options ${JSON.stringify(opts)}; ${os.cpus().length} cpus; loadavg ${startLoad.join(' ')}`);
  const one = opts.reps > 0 ? await oneBroker() : { reps: [], compat: [], brokerLogHits: [] };
  const three = opts.three && Date.now() < deadline - 120_000 ? await threeBrokers() : undefined;
  const endLoad = loadavg();

  const rows: string[][] = [];
  const header = ['measurement (median of reps)', 'kafkajs 2.2.4', '@platformatic/kafka 1.35.0', 'ProducerPerformance'];
  const produceOf = (c: ClientName) => (r: Rep) => r.produce[c];
  const consumeOf = (c: ClientName) => (r: Rep) => r.consume[c];
  const txnOf = (c: TxnVariant) => (r: Rep) => r.txn[c];
  const both = (label: string, f: (c: ClientName) => string, java = '') =>
    rows.push([label, f('kafkajs'), f('platformatic'), java]);
  const javaNum = (g: (j: JavaResult) => number, d = 0) =>
    fmt(
      pick<JavaResult>(one.reps, (r) => r.java, g),
      d,
    );
  both(
    'produce records/s',
    (c) => fmt(pick<ProduceResult>(one.reps, produceOf(c), (p) => p.recordsPerSec)),
    javaNum((j) => j.recordsPerSec),
  );
  both(
    'produce MB/s (values)',
    (c) =>
      fmt(
        pick<ProduceResult>(one.reps, produceOf(c), (p) => p.mbPerSec),
        1,
      ),
    javaNum((j) => j.mbPerSec, 1),
  );
  both(
    `batch ack p50 ms (${opts.batch} rec)`,
    (c) =>
      fmt(
        pick<ProduceResult>(one.reps, produceOf(c), (p) => p.batchP50Ms),
        1,
      ),
    `${javaNum((j) => j.p50Ms)} (per record)`,
  );
  both(
    `batch ack p99 ms (${opts.batch} rec)`,
    (c) =>
      fmt(
        pick<ProduceResult>(one.reps, produceOf(c), (p) => p.batchP99Ms),
        1,
      ),
    `${javaNum((j) => j.p99Ms)} (per record)`,
  );
  both('records landed == sent', (c) =>
    one.reps.every((r) => {
      const p = r.produce[c];
      return p && !('error' in p) && p.landed === p.records;
    })
      ? 'yes'
      : 'NO',
  );
  both('consume records/s (join included)', (c) =>
    fmt(pick<ConsumeResult>(one.reps, consumeOf(c), (x) => x.recordsPerSec)),
  );
  both('consume records/s (first to last record)', (c) =>
    fmt(pick<ConsumeResult>(one.reps, consumeOf(c), (x) => x.steadyPerSec)),
  );
  both('consume: first record after ms', (c) =>
    fmt(pick<ConsumeResult>(one.reps, consumeOf(c), (x) => x.firstRecordMs)),
  );
  const txnOk = (t: TxnResult | { error: string } | undefined) => (t && !('error' in t) ? t.correct : false);
  for (const [k, p] of txnVariants) {
    const suffix = k.endsWith('retry20') ? ', retry 20 ms' : '';
    const row = (label: string, f: (v: TxnVariant) => string) => rows.push([label, f(k), f(p), '']);
    row(`txn loop records/s (1 broker${suffix})`, (v) =>
      fmt(pick<TxnResult>(one.reps, txnOf(v), (x) => x.recordsPerSec)),
    );
    row(`txn loop transactions (1 broker${suffix})`, (v) =>
      fmt(pick<TxnResult>(one.reps, txnOf(v), (x) => x.transactions)),
    );
    row(`txn loop correct, every rep (1 broker${suffix})`, (v) =>
      one.reps.every((r) => txnOk(r.txn[v])) ? 'yes' : 'NO',
    );
  }
  if (three) {
    for (const [k, p] of txnVariants) {
      const suffix = k.endsWith('retry20') ? ', retry 20 ms' : '';
      const cell = (v: TxnVariant) => {
        const t = three.txn[v];
        if (!t) return 'n/a';
        if ('error' in t) return 'error';
        return `${fmt(t.recordsPerSec)}${t.correct ? ', correct' : ', NOT correct'}`;
      };
      rows.push([`txn loop records/s (3 brokers, RF 3${suffix})`, cell(k), cell(p), '']);
    }
    both('broker kill: acks resume after s', (c) => {
      const f = three.failover[c];
      if (!f || 'error' in f) return 'error';
      return Number.isFinite(f.recoverySeconds) ? fmt(f.recoverySeconds, 1) : 'none within 45 s';
    });
    both('broker kill: send errors seen', (c) => {
      const f = three.failover[c];
      return f && !('error' in f) ? String(f.errors) : 'error';
    });
  }

  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const table = [
    line(header),
    `|${widths.map((w, i) => (i === 0 ? `-${'-'.repeat(w)}-` : `-${'-'.repeat(w)}:`)).join('|')}|`,
    ...rows.map(line),
  ];
  const out: string[] = [];
  out.push(
    `records ${opts.records} (txn loop ${opts.txnRecords}), ${opts.reps} reps, batch ${opts.batch}, ${opts.partitions} partitions, ${opts.users} users`,
  );
  out.push(`machine: ${os.cpus().length} cpus (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}`);
  out.push(
    `loadavg start ${startLoad.join(' ')}, per rep ${one.reps.map((r) => r.loadavg.join('/')).join(', ')}, end ${endLoad.join(' ')}`,
  );
  out.push(...table);
  for (const r of one.reps)
    if (r.java && !('error' in r.java)) out.push(`ProducerPerformance rep ${r.rep}: ${r.java.summary}`);
  out.push('kafkajs admin on Kafka 4.1:');
  for (const c of one.compat) out.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.step}${c.ok ? '' : `: ${c.detail}`}`);
  out.push(`kafkajs warnings/errors logged: ${kafkajsLog.size === 0 ? 'none' : ''}`);
  for (const [l, n] of kafkajsLog) out.push(`  ${n}x ${l.slice(0, 300)}`);
  out.push(`broker log lines about unsupported/invalid requests: ${one.brokerLogHits.length}`);
  for (const l of one.brokerLogHits.slice(0, 5)) out.push(`  ${l}`);
  for (const r of one.reps) {
    for (const [k, v] of Object.entries({ ...r.produce, java: r.java }))
      if (v && 'error' in v) out.push(`rep ${r.rep} ${k} produce error: ${v.error}`);
    for (const [k, v] of Object.entries(r.consume))
      if (v && 'error' in v) out.push(`rep ${r.rep} ${k} consume error: ${v.error}`);
    for (const [k, v] of Object.entries(r.txn))
      if (v && 'error' in v) out.push(`rep ${r.rep} ${k} txn error: ${v.error}`);
  }
  if (three) {
    for (const [k, v] of Object.entries(three.txn))
      if (v && 'error' in v) out.push(`3 brokers ${k} txn error: ${v.error}`);
    for (const [k, v] of Object.entries(three.failover)) {
      if (v && 'error' in v) out.push(`3 brokers ${k} failover error: ${v.error}`);
      else if (v) out.push(`3 brokers ${k} failover: ${JSON.stringify(v)}`);
    }
  }
  process.stderr.write(`${out.join('\n')}\n`);
  if (opts.json) {
    const doc = {
      options: opts,
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model,
        node: process.version,
        loadavg: { start: startLoad, end: endLoad },
      },
      reps: one.reps,
      kafkajsCompat: one.compat,
      kafkajsLog: Object.fromEntries(kafkajsLog),
      brokerLogHits: one.brokerLogHits,
      threeBrokers: three,
    };
    process.stdout.write(`${JSON.stringify(doc, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
  } else {
    process.stdout.write(`${table.join('\n')}\n`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${errText(err)}\n`);
    process.exit(3);
  },
);
