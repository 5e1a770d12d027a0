/**
 * The harness's own Kafka clients (@platformatic/kafka: see docs/decisions/kafka-client.md for the measurement).
 * Small helpers only: topic admin, a round-trip probe, reading a topic to its end.
 */
import { randomUUID } from 'node:crypto';
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';

export function admin(bootstrap: string, clientId = 'streamproof-admin'): Admin {
  return new Admin({ clientId, bootstrapBrokers: [bootstrap], retries: 3, retryDelay: 200, timeout: 10_000 });
}

export async function brokerIds(bootstrap: string): Promise<number[]> {
  const a = admin(bootstrap);
  try {
    const md = await a.metadata({ topics: [], forceUpdate: true });
    return [...md.brokers.keys()].sort((x, y) => x - y);
  } finally {
    await a.close();
  }
}

export async function ensureTopic(
  bootstrap: string,
  topic: string,
  opts: { partitions?: number; replicas?: number; configs?: Record<string, string> } = {},
): Promise<void> {
  const a = admin(bootstrap);
  try {
    const existing = await a.listTopics();
    if (existing.includes(topic)) return;
    await a.createTopics({
      topics: [topic],
      partitions: opts.partitions ?? 1,
      replicas: opts.replicas ?? 1,
      configs: Object.entries(opts.configs ?? {}).map(([name, value]) => ({ name, value })),
    });
  } finally {
    await a.close();
  }
}

/**
 * Produce one record with acks=all and read it back, both through `bootstrap`. Used as the stack's readiness probe
 * on the proxied address: it proves the whole path (proxy, advertised listener, leader, fetch) works.
 */
export async function roundTrip(bootstrap: string, topic: string, timeoutMs = 20_000): Promise<number> {
  const started = Date.now();
  const marker = randomUUID();
  const producer = new Producer({
    clientId: 'streamproof-probe',
    bootstrapBrokers: [bootstrap],
    serializers: stringSerializers,
    acks: -1,
    idempotent: true,
    timeout: timeoutMs,
  });
  try {
    await producer.send({ messages: [{ topic, key: 'probe', value: marker }] });
  } finally {
    await producer.close();
  }
  const consumer = new Consumer({
    clientId: 'streamproof-probe',
    groupId: `streamproof-probe-${marker}`,
    bootstrapBrokers: [bootstrap],
    deserializers: stringDeserializers,
    timeout: timeoutMs,
    maxWaitTime: 200,
  });
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    const timer = setTimeout(
      () => stream.destroy(new Error(`probe record not read back within ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      for await (const msg of stream) {
        if (msg.value === marker) break;
      }
    } finally {
      clearTimeout(timer);
      await stream.close();
    }
  } finally {
    await closeNow(consumer);
  }
  return Date.now() - started;
}

/** Close a client without waiting for in-flight work, ignoring errors (used in cleanup paths). */
export async function closeNow(client: { close(force?: boolean): Promise<void> }): Promise<void> {
  try {
    await client.close(true);
  } catch {
    // a client closed during a fault may already be broken; nothing to clean up then
  }
}

/**
 * Commit one transaction through `bootstrap`. Part of stack readiness: it makes the broker create its transaction
 * state log now, so the first transaction of the system under test is not measured against that one-off cost.
 */
export async function probeTransaction(bootstrap: string, topic: string, timeoutMs = 30_000): Promise<void> {
  const producer = new Producer({
    clientId: 'streamproof-probe',
    bootstrapBrokers: [bootstrap],
    serializers: stringSerializers,
    acks: -1,
    idempotent: true,
    transactionalId: `streamproof-probe-${randomUUID()}`,
    // See docs/decisions/kafka-client.md: without these the client asks to re-initialise producer 0.
    producerId: -1n,
    producerEpoch: -1,
    timeout: timeoutMs,
    retryDelay: 100,
  });
  try {
    const tx = await producer.beginTransaction();
    await tx.send({ messages: [{ topic, key: 'probe', value: 'transaction' }] });
    await tx.commit();
  } finally {
    await closeNow(producer);
  }
}
