/**
 * Who holds a role in the cluster right now, and moving a partition's leadership, in Kafka's own protocol (the
 * connection and request writers of @platformatic/kafka; its Admin has no API for the quorum, reassignments,
 * elections or transactions):
 * - a partition's leader, replicas and in-sync replicas: Metadata v12;
 * - the active KRaft controller: DescribeQuorum v2 (a broker forwards it to the controller quorum) and the leader of
 *   the metadata log. Not the Metadata response's controller id: in KRaft a broker answers there with a random
 *   live broker, never the active controller;
 * - a group's or a transactional id's coordinator: FindCoordinator v6 (key type 0 or 1);
 * - the transactional ids each broker coordinates: ListTransactions v1, asked of every broker;
 * - the producers that wrote to a partition: DescribeProducers v0, asked of its leader;
 * - a new replica order, then the preferred replica elected: AlterPartitionReassignments v0 and ElectLeaders v2
 *   (written here: the client has no ElectLeaders).
 *
 * Every function takes the brokers' addresses (`{ id, address }`, the harness's direct listeners) and throws plain
 * Errors whose message says what was asked and what the cluster answered.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  alterPartitionReassignmentsV0,
  Connection,
  describeProducersV0,
  describeQuorumV2,
  findCoordinatorV6,
  listTransactionsV1,
  metadataV12,
  protocolErrorsCodesById,
  type Reader,
  Writer,
} from '@platformatic/kafka';
import { securityFor } from './security.ts';

export interface BrokerAddress {
  readonly id: number;
  /** host:port */
  readonly address: string;
}

export interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** -1: no leader. */
  readonly leader: number;
  /** In the preferred order: the first one is the preferred leader. */
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
}

const TIMEOUT_MS = 5000;

function errorName(code: number): string {
  return `${protocolErrorsCodesById[code] ?? 'UNKNOWN_ERROR'} (${code})`;
}

/** Runs `fn` on a fresh connection to `address`; the connection is closed after. */
async function on<T>(address: string, fn: (c: Connection) => Promise<T>): Promise<T> {
  const i = address.lastIndexOf(':');
  const conn = new Connection('streamproof-roles', {
    connectTimeout: 3000,
    requestTimeout: TIMEOUT_MS,
    ...securityFor(address),
  });
  try {
    await conn.connect(address.slice(0, i), Number(address.slice(i + 1)));
    return await fn(conn);
  } finally {
    await conn.close().catch(() => {});
  }
}

/** `fn` on the first broker that answers; the errors of all of them when none does. */
async function onAny<T>(
  brokers: readonly BrokerAddress[],
  what: string,
  fn: (c: Connection) => Promise<T>,
): Promise<T> {
  const errors: string[] = [];
  for (const b of brokers) {
    try {
      return await on(b.address, fn);
    } catch (err) {
      errors.push(`broker ${b.id}: ${messageOf(err)}`);
    }
  }
  throw new Error(`${what}: no broker answered (${errors.join('; ') || 'no broker'})`);
}

function messageOf(err: unknown): string {
  const e = err as { message?: string; errors?: unknown[]; response?: unknown };
  return e?.message ?? String(err);
}

/** The leader, replicas and ISR of one partition (fresh metadata). */
export async function partitionState(
  brokers: readonly BrokerAddress[],
  topic: string,
  partition: number,
): Promise<PartitionState> {
  return onAny(brokers, `metadata of ${topic}`, async (c) => {
    let md: Awaited<ReturnType<typeof metadataV12.api.async>>;
    try {
      md = await metadataV12.api.async(c, [topic], false, false);
    } catch (err) {
      const response = (err as { response?: typeof md }).response;
      if (!response) throw err;
      md = response;
    }
    const t = md.topics.find((x) => x.name === topic);
    if (!t) throw new Error(`topic "${topic}": not in the metadata`);
    if (t.errorCode !== 0) throw new Error(`topic "${topic}": ${errorName(t.errorCode)}`);
    const p = t.partitions.find((x) => x.partitionIndex === partition);
    if (!p) throw new Error(`${topic}/${partition}: no such partition (the topic has ${t.partitions.length})`);
    return { topic, partition, leader: p.leaderId, replicas: p.replicaNodes, isr: p.isrNodes };
  });
}

/** The node id of the active KRaft controller: the leader of the metadata log, from DescribeQuorum. */
export async function activeController(brokers: readonly BrokerAddress[]): Promise<number> {
  return onAny(brokers, 'DescribeQuorum', async (c) => {
    const r = await describeQuorumV2.api.async(c, [
      { topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] },
    ]);
    const leader = r.topics[0]?.partitions[0]?.leaderId ?? -1;
    if (leader < 0) throw new Error('the metadata quorum has no leader');
    return leader;
  });
}

/** The coordinator of a group (`group`) or a transactional id (`transaction`), from FindCoordinator. */
export async function coordinatorOf(
  brokers: readonly BrokerAddress[],
  type: 'group' | 'transaction',
  key: string,
  timeoutMs = 10_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await onAny(brokers, `FindCoordinator of ${type} "${key}"`, async (c) => {
      let r: Awaited<ReturnType<typeof findCoordinatorV6.api.async>>;
      try {
        r = await findCoordinatorV6.api.async(c, type === 'group' ? 0 : 1, [key]);
      } catch (err) {
        const response = (err as { response?: typeof r }).response;
        if (!response) throw err;
        r = response;
      }
      return r.coordinators.find((x) => x.key === key) ?? r.coordinators[0];
    });
    if (answer && answer.errorCode === 0 && answer.nodeId >= 0) return answer.nodeId;
    // COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR: the coordinator is moving or loading.
    const code = answer?.errorCode ?? -1;
    if (![14, 15, 16].includes(code) || Date.now() >= deadline) {
      throw new Error(`FindCoordinator of ${type} "${key}": ${answer ? errorName(code) : 'empty answer'}`);
    }
    await sleep(200);
  }
}

export interface ListedTransaction {
  readonly transactionalId: string;
  readonly producerId: bigint;
  readonly state: string;
  /** The broker that answered for it: its coordinator. */
  readonly coordinator: number;
}

/** Every transactional id the cluster knows, with its coordinator: ListTransactions asked of every broker. */
export async function listTransactions(brokers: readonly BrokerAddress[]): Promise<ListedTransaction[]> {
  const out: ListedTransaction[] = [];
  const errors: string[] = [];
  await Promise.all(
    brokers.map(async (b) => {
      try {
        const r = await on(b.address, (c) => listTransactionsV1.api.async(c, [], [], -1n, null));
        for (const t of r.transactionStates) {
          out.push({
            transactionalId: t.transactionalId,
            producerId: t.producerId,
            state: t.transactionState,
            coordinator: b.id,
          });
        }
      } catch (err) {
        errors.push(`broker ${b.id}: ${messageOf(err)}`);
      }
    }),
  );
  // A broker that did not answer may coordinate the very ids asked for: say so rather than answer partly.
  if (errors.length > 0) throw new Error(`ListTransactions: ${errors.join('; ')}`);
  return out.sort((a, b) =>
    a.transactionalId < b.transactionalId ? -1 : a.transactionalId > b.transactionalId ? 1 : 0,
  );
}

/** The producer ids that wrote to `topic` (every partition, asked of its leader) and are still known to it. */
export async function producersOf(brokers: readonly BrokerAddress[], topic: string): Promise<Set<bigint>> {
  const md = await onAny(brokers, `metadata of ${topic}`, (c) => metadataV12.api.async(c, [topic], false, false));
  const t = md.topics.find((x) => x.name === topic);
  if (!t) throw new Error(`topic "${topic}": not in the metadata`);
  const byLeader = new Map<number, number[]>();
  for (const p of t.partitions) {
    if (p.leaderId >= 0) byLeader.set(p.leaderId, [...(byLeader.get(p.leaderId) ?? []), p.partitionIndex]);
  }
  const ids = new Set<bigint>();
  for (const [leader, partitions] of byLeader) {
    const b = brokers.find((x) => x.id === leader);
    if (!b) continue;
    const r = await on(b.address, (c) =>
      describeProducersV0.api.async(c, [{ name: topic, partitionIndexes: partitions }]),
    ).catch(
      (err: unknown) => (err as { response?: Awaited<ReturnType<typeof describeProducersV0.api.async>> }).response,
    );
    for (const x of r?.topics ?? []) {
      for (const p of x.partitions) for (const a of p.activeProducers) ids.add(BigInt(a.producerId));
    }
  }
  return ids;
}

/**
 * Gives `topic/partition` the replica order `replicas` (the same replicas, another order: nothing is copied) and
 * elects the preferred (first) one leader; resolves once the metadata shows it leading, or throws after `timeoutMs`.
 */
export async function reorderAndElect(
  brokers: readonly BrokerAddress[],
  topic: string,
  partition: number,
  replicas: readonly number[],
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const target = replicas[0]!;
  await onAny(brokers, `AlterPartitionReassignments of ${topic}/${partition}`, (c) =>
    alterPartitionReassignmentsV0.api.async(c, TIMEOUT_MS, false, [
      { name: topic, partitions: [{ partitionIndex: partition, replicas: [...replicas] }] },
    ]),
  ).catch((err: unknown) => {
    throw new Error(`reordering the replicas of ${topic}/${partition} to ${replicas.join(',')}: ${describe(err)}`);
  });
  let last = '';
  for (;;) {
    const s = await partitionState(brokers, topic, partition).catch((err: unknown) => {
      last = messageOf(err);
      return undefined;
    });
    if (s) {
      last = `leader ${s.leader}, replicas ${s.replicas.join(',')}, isr ${s.isr.join(',')}`;
      if (s.leader === target && s.replicas.join(',') === replicas.join(',')) return;
      if (s.replicas.join(',') === replicas.join(',') && s.isr.includes(target)) {
        const code = await onAny(brokers, `ElectLeaders of ${topic}/${partition}`, (c) =>
          electPreferred(c, topic, partition),
        ).catch(() => -1);
        // 84 ELECTION_NOT_NEEDED: it already leads (seen at the next look).
        if (code !== 0 && code !== 84) last += `; ElectLeaders: ${code < 0 ? 'no answer' : errorName(code)}`;
      }
    }
    if (Date.now() >= deadline) {
      throw new Error(`${topic}/${partition}: broker ${target} did not become leader within ${timeoutMs} ms (${last})`);
    }
    await sleep(200);
  }
}

function describe(err: unknown): string {
  const r = (err as { response?: { errorCode?: number; errorMessage?: string | null; responses?: unknown } }).response;
  if (r && typeof r.errorCode === 'number') {
    const inner = JSON.stringify(r.responses ?? []);
    return `${errorName(r.errorCode)}${r.errorMessage ? `: ${r.errorMessage}` : ''} ${inner}`;
  }
  return messageOf(err);
}

/** ElectLeaders v2, election type PREFERRED (0), one partition; resolves with the partition's error code. */
function electPreferred(conn: Connection, topic: string, partition: number): Promise<number> {
  const request = Writer.create()
    .appendInt8(0)
    .appendArray(
      [{ topic, partitions: [partition] }],
      (w, t) => {
        w.appendString(t.topic).appendArray(t.partitions, (w2, p) => w2.appendInt32(p), true, false);
      },
      true,
      true,
    )
    .appendInt32(TIMEOUT_MS)
    .appendTaggedFields();
  const parse = (r: Reader): number => {
    r.readInt32(); // throttle_time_ms
    const top = r.readInt16();
    const results = r.readArray((t) => {
      t.readString();
      return t.readArray((p) => {
        p.readInt32();
        const code = p.readInt16();
        p.readNullableString();
        return code;
      });
    });
    r.readTaggedFields();
    return top !== 0 ? top : (results[0]?.[0] ?? -1);
  };
  return new Promise((resolve, reject) => {
    conn.send(
      43,
      2,
      () => request,
      (_c, _k, _v, reader) => parse(reader),
      true,
      true,
      (err, payload) => (err ? reject(err) : resolve(payload as number)),
    );
  });
}
