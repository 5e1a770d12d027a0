/**
 * The harness's own Kafka clients (@platformatic/kafka: see docs/decisions/kafka-client.md for the measurement).
 * Small helpers only: topic admin, a round-trip probe, reading a topic to its end, the cluster's bootstrap list and
 * its replication state.
 *
 * Surviving broker faults: a client bootstrapped on one address is stranded when that broker is killed, and one
 * that asks a paused broker first waits out its timeout on every metadata call (the client always tries its
 * bootstrap list in order). So the harness's long-lived clients bootstrap on every broker (`clusterBootstrap`, read
 * once from the metadata while the cluster is whole) and, when they replace a client after errors, start the list
 * at another broker (`rotate`).
 */
import { randomUUID } from 'node:crypto';
import {
  Admin,
  Connection,
  Consumer,
  metadataV12,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';
import { securityFor } from './security.ts';

/** One address, or several comma-separated ("h:p,h:p"), or a list: the list of bootstrap addresses. */
export type Bootstrap = string | readonly string[];

export function bootstrapList(bootstrap: Bootstrap): string[] {
  const list = typeof bootstrap === 'string' ? bootstrap.split(',') : [...bootstrap];
  return list.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** The list rotated left by `k` (k may be any integer): each replacement client asks another broker first. */
export function rotate<T>(list: readonly T[], k: number): T[] {
  if (list.length === 0) return [];
  const n = ((k % list.length) + list.length) % list.length;
  return [...list.slice(n), ...list.slice(0, n)];
}

export function admin(bootstrap: Bootstrap, clientId = 'streamproof-admin'): Admin {
  return new Admin({
    clientId,
    bootstrapBrokers: bootstrapList(bootstrap),
    ...securityFor(bootstrap),
    retries: 3,
    retryDelay: 200,
    timeout: 10_000,
  });
}

/**
 * Every broker's address as the cluster advertises it on the listener `bootstrap` reaches (the direct one for the
 * harness), the given addresses first, sorted by broker id after them. Falls back to the given list when the
 * metadata cannot be read (the caller's clients then fail as they would have).
 */
export async function clusterBootstrap(bootstrap: Bootstrap, clientId = 'streamproof-bootstrap'): Promise<string[]> {
  const given = bootstrapList(bootstrap);
  const a = admin(given, clientId);
  try {
    const md = await a.metadata({ topics: [], forceUpdate: true });
    const found = [...md.brokers.entries()].sort((x, y) => x[0] - y[0]).map(([, b]) => `${b.host}:${b.port}`);
    return [...new Set([...given, ...found])];
  } catch {
    return given;
  } finally {
    // Not closeNow(): Admin.close takes a callback, not a force flag.
    await a.close().catch(() => {});
  }
}

/** A partition that is not fully replicated: no leader, or fewer in-sync replicas than replicas. */
export interface UnderReplicated {
  topic: string;
  partition: number;
  leader: number;
  replicas: number;
  isr: number;
}

/**
 * Every partition of every topic (internal ones included: the group and transaction logs matter most) that is not
 * fully in sync, read from a fresh Metadata v12 answer of the first broker of `bootstrap` that accepts a connection.
 * The raw request, not `Admin.metadata`: the client drops internal topics from its metadata. Empty: the cluster is
 * whole.
 */
export async function underReplicatedPartitions(bootstrap: Bootstrap, timeoutMs = 5000): Promise<UnderReplicated[]> {
  const errors: string[] = [];
  for (const address of bootstrapList(bootstrap)) {
    const i = address.lastIndexOf(':');
    const conn = new Connection('streamproof-isr', {
      connectTimeout: Math.min(timeoutMs, 3000),
      requestTimeout: timeoutMs,
      ...securityFor(address),
    });
    try {
      await conn.connect(address.slice(0, i), Number(address.slice(i + 1)));
      const md = await metadataV12.api.async(conn, null, false, false);
      const out: UnderReplicated[] = [];
      for (const t of md.topics) {
        if (!t.name) continue;
        for (const p of t.partitions) {
          if (p.leaderId < 0 || p.isrNodes.length < p.replicaNodes.length) {
            out.push({
              topic: t.name,
              partition: p.partitionIndex,
              leader: p.leaderId,
              replicas: p.replicaNodes.length,
              isr: p.isrNodes.length,
            });
          }
        }
      }
      return out.sort((x, y) => (x.topic < y.topic ? -1 : x.topic > y.topic ? 1 : x.partition - y.partition));
    } catch (err) {
      errors.push(`${address}: ${(err as Error)?.message ?? String(err)}`);
    } finally {
      await conn.close().catch(() => {});
    }
  }
  throw new Error(`no broker answered a metadata request (${errors.join('; ')})`);
}

export async function brokerIds(bootstrap: Bootstrap): Promise<number[]> {
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
    ...securityFor(bootstrap),
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
    ...securityFor(bootstrap),
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
    ...securityFor(bootstrap),
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
