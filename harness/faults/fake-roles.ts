/**
 * A fake of the cluster's roles (`FaultRoles`) for unit tests: partitions with a leader, replicas and ISR that a
 * reorder-and-elect really changes, a controller, coordinators, and failures to inject. Nothing in production
 * imports it.
 */
import type { FaultRoles, PartitionState } from './stack-roles.ts';

export class FakeRoles implements FaultRoles {
  /** `topic/partition` -> its state; `leader: -1` for none. */
  readonly partitions = new Map<string, { leader: number; replicas: number[]; isr: number[] }>();
  controllerId = 1;
  groupCoordinatorId = 2;
  /** The txn coordinator's answer, or an Error to reject with (e.g. no transactional id yet). */
  txn: { brokerId: number; transactionalIds: string[] } | Error = { brokerId: 3, transactionalIds: ['sut-x-0'] };
  /** Calls whose line matches fail (once each), e.g. /^reorder t\/0 2,1,3$/. */
  readonly failures: RegExp[] = [];

  constructor(readonly log: string[] = []) {
    this.partitions.set('events/0', { leader: 1, replicas: [1, 2, 3], isr: [1, 2, 3] });
  }

  private op(line: string): void {
    const i = this.failures.findIndex((re) => re.test(line));
    if (i >= 0) {
      this.failures.splice(i, 1);
      throw new Error(`injected failure: ${line}`);
    }
    this.log.push(line);
  }

  async partition(topic: string, partition: number): Promise<PartitionState> {
    this.op(`partition ${topic}/${partition}`);
    const p = this.partitions.get(`${topic}/${partition}`);
    if (!p) throw new Error(`topic "${topic}": UNKNOWN_TOPIC_OR_PARTITION (3)`);
    return { topic, partition, leader: p.leader, replicas: [...p.replicas], isr: [...p.isr] };
  }

  async controller(): Promise<number> {
    this.op('controller');
    return this.controllerId;
  }

  async groupCoordinator(): Promise<number> {
    this.op('group-coordinator');
    return this.groupCoordinatorId;
  }

  async txnCoordinator(): Promise<{ brokerId: number; transactionalIds: readonly string[] }> {
    this.op('txn-coordinator');
    if (this.txn instanceof Error) throw this.txn;
    return this.txn;
  }

  async reorderAndElect(topic: string, partition: number, replicas: readonly number[]): Promise<void> {
    this.op(`reorder ${topic}/${partition} ${replicas.join(',')}`);
    const p = this.partitions.get(`${topic}/${partition}`);
    if (!p) throw new Error(`topic "${topic}": UNKNOWN_TOPIC_OR_PARTITION (3)`);
    p.replicas = [...replicas];
    if (!p.isr.includes(replicas[0]!)) throw new Error(`broker ${replicas[0]} is not in sync`);
    p.leader = replicas[0]!;
  }
}
