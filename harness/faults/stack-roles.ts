/**
 * The cluster's roles as faults need them (`FaultRoles`), read from a started stack with real admin calls
 * (harness/kafka/roles.ts) each time a role fault starts, on the brokers' direct listeners (the running ones first).
 *
 * The SUT's transactional ids (`txn-coordinator`): the env contract gives each instance
 * `STREAMPROOF_TRANSACTIONAL_ID` (`<transactionalId>-<i>`, the reference SUT uses it as a prefix: `<transactionalId>-p<N>`),
 * but a pipeline may choose its own (Kafka Streams does). So, from ListTransactions asked of every broker:
 * 1. the ids equal to `<transactionalId>` or starting with `<transactionalId>-` (the env contract), else
 * 2. the ids whose producer id wrote to the SUT's output topic (DescribeProducers on its partitions' leaders): only
 *    the SUT writes there, the harness never does;
 * and of those, the broker that coordinates the most (ties: the lowest id). None: the fault fails to apply.
 */
import {
  activeController,
  type BrokerAddress,
  coordinatorOf,
  type ListedTransaction,
  listTransactions,
  type PartitionState,
  partitionState,
  producersOf,
  reorderAndElect,
} from '../kafka/roles.ts';
import type { StartedStack } from '../stack/stack.ts';

export type { PartitionState };

/** Who holds a role now, and moving a leader; rejects with an Error saying why a role cannot be read. */
export interface FaultRoles {
  /** The leader, replicas (preferred order) and ISR of a partition. `topic` in the answer is the real topic name. */
  partition(topic: string, partition: number): Promise<PartitionState>;
  /** The active KRaft controller's node id (on this stack, combined nodes: that broker). */
  controller(): Promise<number>;
  /** The coordinator of the SUT's consumer group. */
  groupCoordinator(): Promise<number>;
  /** The coordinator of the SUT's transactional ids (see the module comment), and the ids it chose by. */
  txnCoordinator(): Promise<{ brokerId: number; transactionalIds: readonly string[] }>;
  /** Gives the partition the replica order `replicas` and makes the first one leader; resolves once it leads. */
  reorderAndElect(topic: string, partition: number, replicas: readonly number[]): Promise<void>;
}

/** What the runner knows about the SUT (its env contract); extra fields are ignored. */
export interface RoleOptions {
  /** The SUT's consumer group id (`group-coordinator`). */
  readonly groupId?: string;
  /** The env contract's transactional id (prefix) of the SUT (`txn-coordinator`). */
  readonly transactionalId?: string;
  /** The SUT's output topic (`txn-coordinator` for a SUT with ids of its own). */
  readonly outputTopic?: string;
  /**
   * On a stack a run reuses, the run's topics carry a suffix: `leader:events/0` then names `events<suffix>` when it
   * exists (the run's own `events`).
   */
  readonly topicSuffix?: string;
}

/** The SUT's transactional ids among `all`: the env contract's first, else the writers of the output topic. */
export function sutTransactions(
  all: readonly ListedTransaction[],
  transactionalId: string | undefined,
  outputProducers: ReadonlySet<bigint> | undefined,
): ListedTransaction[] {
  if (transactionalId) {
    const mine = all.filter(
      (t) => t.transactionalId === transactionalId || t.transactionalId.startsWith(`${transactionalId}-`),
    );
    if (mine.length > 0) return mine;
  }
  return outputProducers ? all.filter((t) => outputProducers.has(t.producerId)) : [];
}

/** The broker coordinating the most of `txns` (ties: the lowest id); undefined for none. */
export function busiestCoordinator(txns: readonly ListedTransaction[]): number | undefined {
  const counts = new Map<number, number>();
  for (const t of txns) counts.set(t.coordinator, (counts.get(t.coordinator) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0];
}

export function stackRoles(stack: StartedStack, opts: RoleOptions = {}): FaultRoles {
  // Running brokers first: one killed or being restarted refuses the connection (and a paused one times out).
  const brokers = (): BrokerAddress[] => {
    const all = stack.status().kafka.brokers;
    return [...all.filter((b) => b.running), ...all.filter((b) => !b.running)].map((b) => ({
      id: b.id,
      address: b.direct,
    }));
  };
  const roles: FaultRoles = {
    async partition(topic, partition) {
      if (opts.topicSuffix) {
        try {
          return await partitionState(brokers(), `${topic}${opts.topicSuffix}`, partition);
        } catch {
          // not the run's topic: the topic as written
        }
      }
      return partitionState(brokers(), topic, partition);
    },
    controller: () => activeController(brokers()),
    async groupCoordinator() {
      if (!opts.groupId) throw new Error('the SUT has no consumer group id here (the runner gives it one)');
      return coordinatorOf(brokers(), 'group', opts.groupId);
    },
    async txnCoordinator() {
      const all = await listTransactions(brokers());
      let mine = sutTransactions(all, opts.transactionalId, undefined);
      if (mine.length === 0 && opts.outputTopic) {
        mine = sutTransactions(all, undefined, await producersOf(brokers(), opts.outputTopic));
      }
      const brokerId = busiestCoordinator(mine);
      if (brokerId === undefined) {
        throw new Error(
          `no transactional id of the SUT is known to the cluster yet (none is "${opts.transactionalId ?? '?'}" or starts with "${opts.transactionalId ?? '?'}-"${opts.outputTopic ? `, and no transactional producer wrote to ${opts.outputTopic}` : ''}; ${all.length} transactional id(s) listed)`,
        );
      }
      return {
        brokerId,
        transactionalIds: mine.filter((t) => t.coordinator === brokerId).map((t) => t.transactionalId),
      };
    },
    reorderAndElect: (topic, partition, replicas) => reorderAndElect(brokers(), topic, partition, replicas),
  };
  return roles;
}
