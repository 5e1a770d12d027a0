/**
 * A test double of `SutKafka` (apply-group.ts): transactional ids the "coordinators" know, a consumer group as
 * DescribeGroup would describe it, and a log of what the fence and rebalance faults did with them. Used by unit
 * tests; nothing in production imports it.
 */
import type { HarnessMember } from '../kafka/group-member.ts';
import type { GroupDescription } from '../kafka/groups.ts';
import type { JoinHow, SutKafka } from './apply-group.ts';

export class FakeSutKafka implements SutKafka {
  readonly groupId: string;
  readonly inputTopic: string;
  readonly transactionalId: string;
  /** Transactional id -> state, as the coordinators know them. */
  readonly known = new Map<string, string>();
  /** Every call, in order: `fence sut-0`, `close sut-0`, `join classic roundrobin`, `leave m-1`. */
  readonly log: string[] = [];
  /** Ids whose fence fails. */
  readonly failFence = new Set<string>();
  /** What describeGroup answers. */
  group: GroupDescription | undefined;
  /** Make the next leave() fail once. */
  failLeave = false;

  constructor(opts: { groupId?: string; inputTopic?: string; transactionalId?: string } = {}) {
    this.groupId = opts.groupId ?? 'sut-run';
    this.inputTopic = opts.inputTopic ?? 'events';
    this.transactionalId = opts.transactionalId ?? 'sut-run';
  }

  async transactions(ids?: readonly string[]) {
    const all = [...this.known].map(([transactionalId, state]) => ({ transactionalId, state }));
    return ids ? all.filter((t) => ids.includes(t.transactionalId)) : all;
  }

  async fence(id: string) {
    if (this.failFence.has(id)) throw new Error(`InitProducerId: TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53): ${id}`);
    this.log.push(`fence ${id}`);
    return {
      producerEpoch: 7,
      close: async () => {
        this.log.push(`close ${id}`);
      },
    };
  }

  async describeGroup() {
    return this.group;
  }

  async join(how: JoinHow): Promise<HarnessMember> {
    this.log.push(how.type === 'classic' ? `join classic ${how.protocol}` : 'join consumer');
    const memberId = `m-${this.log.length}`;
    return {
      memberId,
      generation: 2,
      assignment: new Map([[this.inputTopic, [0]]]),
      rejoins: 0,
      leads: 0,
      lost: undefined,
      leave: async () => {
        if (this.failLeave) {
          this.failLeave = false;
          throw new Error('connection closed');
        }
        this.log.push(`leave ${memberId}`);
      },
    };
  }
}

/** A classic consumer group with one member, for `rebalance`. */
export function classicGroup(protocol: string, over: Partial<GroupDescription> = {}): GroupDescription {
  return {
    groupId: 'sut-run',
    type: 'classic',
    brokerType: 'classic',
    state: 'Stable',
    protocolType: 'consumer',
    protocol,
    members: [
      { memberId: 'copier-0', instanceId: null, clientId: 'copier-0', clientHost: '/127.0.0.1', assignment: new Map() },
    ],
    ...over,
  };
}
