/**
 * Faults on the SUT's Kafka identity rather than its processes or network (docs/faults.md):
 * - `fence`: a producer of the harness takes over the SUT's transactional id(s) with InitProducerId, as a zombie
 *   takeover does. It ends by itself (`ended` is settled at once); its heal closes the harness's producer.
 * - `rebalance`: a member of the harness joins the SUT's consumer group, owns partitions for `for` without reading
 *   or committing anything, and leaves (its heal).
 *
 * They act through `FaultContext.sutKafka` (the runner sets it: the SUT's group, input topic and transactional-id
 * prefix, and the harness's Kafka clients for them; tests give fakes).
 */
import { type Bootstrap, bootstrapList } from '../kafka/clients.ts';
import { type HarnessMember, joinClassicGroup, joinConsumerGroup } from '../kafka/group-member.ts';
import { describeGroup, type GroupDescription } from '../kafka/groups.ts';
import { describeTransactions, fenceTransactionalId, listTransactions } from '../kafka/txn-fence.ts';
import { messageOf, StreamproofError } from '../util/errors.ts';
import type { ActiveFault } from './apply.ts';
import type { FaultContext } from './context.ts';
import { type FenceFault, type GroupFault, parseTarget, type RebalanceFault } from './spec.ts';

/** How a harness member joins: a classic group with its protocol type and assignor, or a consumer (KIP-848) group. */
export type JoinHow = { type: 'classic'; protocolType: string; protocol: string } | { type: 'consumer' };

/** The SUT's Kafka identity and the harness's clients for it. */
export interface SutKafka {
  readonly groupId: string;
  readonly inputTopic: string;
  /** The env contract's prefix: instance I is given `<transactionalId>-<I>` (STREAMPROOF_TRANSACTIONAL_ID). */
  readonly transactionalId: string;
  /** The given ids a transaction coordinator knows; without ids, every id of the cluster (ListTransactions). */
  transactions(ids?: readonly string[]): Promise<{ transactionalId: string; state: string }[]>;
  /** InitProducerId with the id from a producer of the harness; resolves once the SUT's producer is fenced. */
  fence(transactionalId: string): Promise<{ producerEpoch: number; close(): Promise<void> }>;
  describeGroup(): Promise<GroupDescription | undefined>;
  join(how: JoinHow): Promise<HarnessMember>;
}

/** The production SutKafka: the harness's direct listeners, harness/kafka's raw clients. */
export function sutKafka(env: {
  bootstrap: Bootstrap;
  groupId: string;
  inputTopic: string;
  transactionalId: string;
}): SutKafka {
  const bootstrap = bootstrapList(env.bootstrap);
  const common = { bootstrap, groupId: env.groupId, topic: env.inputTopic };
  return {
    groupId: env.groupId,
    inputTopic: env.inputTopic,
    transactionalId: env.transactionalId,
    transactions: (ids) => (ids ? describeTransactions(bootstrap, ids) : listTransactions(bootstrap)),
    fence: (id) => fenceTransactionalId(bootstrap, id),
    describeGroup: () => describeGroup(bootstrap, env.groupId),
    join: (how) => (how.type === 'consumer' ? joinConsumerGroup(common) : joinClassicGroup({ ...common, ...how })),
  };
}

/** Classic assignors that read a plain ConsumerProtocolSubscription (topics only): the harness member can join. */
export const STANDARD_ASSIGNORS = ['range', 'roundrobin', 'sticky', 'cooperative-sticky'] as const;

const active = new WeakMap<FaultContext, Set<ActiveFault>>();

/** Applies a fence or rebalance fault; throws StreamproofError `FAULT_APPLY_FAILED` when it could not. */
export async function applyGroupFault(spec: GroupFault, ctx: FaultContext, faultId: string): Promise<ActiveFault> {
  const k = ctx.sutKafka;
  if (!k) {
    throw StreamproofError.at(
      'FAULT_APPLY_FAILED',
      `${spec.kind}: the SUT's group and transactional ids are not known here (they are set by the runner once the SUT runs)`,
      { faultId },
    );
  }
  const fault = spec.kind === 'fence' ? await fence(spec, ctx, k, faultId) : await rebalance(spec, k, faultId);
  const set = active.get(ctx) ?? new Set<ActiveFault>();
  active.set(ctx, set);
  set.add(fault);
  return fault;
}

/** Heals every fence and rebalance fault still in effect in `ctx` (for healAll); the errors, empty when none. */
export async function healGroupFaults(ctx: FaultContext): Promise<unknown[]> {
  const set = active.get(ctx);
  if (!set) return [];
  const settled = await Promise.allSettled([...set].map((f) => f.heal()));
  return settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
}

function applyFailed(spec: GroupFault, faultId: string, why: string, cause?: unknown): StreamproofError {
  return StreamproofError.at('FAULT_APPLY_FAILED', `${spec.kind} on ${spec.target} failed: ${why}`, {
    faultId,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * The ids a fence takes over: `transactionalId` when given; `sut:I`: `<prefix>-I` (the coordinator must know it);
 * `sut`: the env contract's ids the coordinator knows, or when it knows none (a SUT that names its own ids, as Kafka
 * Streams does: `<application.id>-<process>-<n>`), every live id of the cluster that starts with the prefix or the
 * group id.
 */
export async function fenceIds(spec: FenceFault, ctx: FaultContext, k: SutKafka): Promise<string[]> {
  if (spec.transactionalId !== undefined) return [spec.transactionalId];
  const target = parseTarget(spec.target);
  const instance = target?.type === 'process' && 'instance' in target ? target.instance : 'all';
  if (typeof instance === 'number') {
    const id = `${k.transactionalId}-${instance}`;
    const known = await k.transactions([id]);
    if (known.length === 0) {
      throw new Error(
        `no transaction coordinator knows sut:${instance}'s transactional id ${id} (is the SUT transactional, with STREAMPROOF_TRANSACTIONAL_ID as its transactional.id?)`,
      );
    }
    return [id];
  }
  let n = 0;
  try {
    n = ctx.processes({ type: 'process', role: 'sut', instance: 'all' }).length;
  } catch {
    // no SUT instance: only the cluster's list can name its ids
  }
  const envIds = Array.from({ length: n }, (_, i) => `${k.transactionalId}-${i}`);
  const known = await k.transactions(envIds);
  if (known.length > 0) return known.map((t) => t.transactionalId);
  const prefixes = [...new Set([k.transactionalId, k.groupId])];
  const own = (await k.transactions())
    .filter((t) => t.state !== 'Dead' && prefixes.some((p) => t.transactionalId.startsWith(p)))
    .map((t) => t.transactionalId)
    .sort();
  if (own.length === 0) {
    throw new Error(
      `found no transactional id of the SUT: the coordinators know neither ${envIds.length > 0 ? envIds.join(', ') : `${k.transactionalId}-<i>`} nor any id starting with ${prefixes.map((p) => `"${p}"`).join(' or ')} (is the SUT transactional?)`,
    );
  }
  return own;
}

async function fence(spec: FenceFault, ctx: FaultContext, k: SutKafka, faultId: string): Promise<ActiveFault> {
  let ids: string[];
  try {
    ids = await fenceIds(spec, ctx, k);
  } catch (err) {
    throw applyFailed(spec, faultId, messageOf(err), err);
  }
  const settled = await Promise.allSettled(ids.map((id) => k.fence(id)));
  const fencers = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failures = settled.flatMap((s, i) => (s.status === 'rejected' ? [`${ids[i]}: ${messageOf(s.reason)}`] : []));
  if (failures.length > 0) {
    await Promise.allSettled(fencers.map((f) => f.close()));
    const done = ids.filter((_, i) => settled[i]!.status === 'fulfilled');
    const also = done.length > 0 ? ` (${done.join(', ')} were fenced all the same: a fence cannot be undone)` : '';
    throw applyFailed(
      spec,
      faultId,
      `${failures.join('; ')}${also}`,
      settled.find((s) => s.status === 'rejected'),
    );
  }
  let open = fencers.length;
  const epochs = Object.fromEntries(ids.map((id, i) => [id, fencers[i]!.producerEpoch]));
  const fault: ActiveFault = {
    spec,
    targets: ids.map((id) => `transactional-id:${id}`),
    toxics: [],
    ended: Promise.resolve(),
    detail: {
      summary: `fenced ${ids.map((id) => `${id} (epoch ${epochs[id]})`).join(', ')}`,
      transactionalIds: ids,
      epochs,
    },
    get healed() {
      return open === 0;
    },
    async heal() {
      if (open === 0) return;
      await Promise.allSettled(fencers.map((f) => f.close()));
      open = 0;
    },
  };
  return fault;
}

async function rebalance(spec: RebalanceFault, k: SutKafka, faultId: string): Promise<ActiveFault> {
  let member: HarnessMember;
  try {
    const group = await k.describeGroup();
    member = await k.join(joinHow(group, k.groupId));
  } catch (err) {
    throw applyFailed(spec, faultId, messageOf(err), err);
  }
  let healing: Promise<void> | undefined;
  let left = false;
  const fault: ActiveFault = {
    spec,
    targets: [`group:${k.groupId}`, `member:${member.memberId}`],
    toxics: [],
    get healed() {
      return left;
    },
    get detail() {
      const owned = [...member.assignment].map(([t, ps]) => `${t}/${ps.join(',')}`).join(' ') || 'nothing';
      return {
        summary: `member ${member.memberId} of ${k.groupId} (generation ${member.generation}) owned ${owned}${member.rejoins > 0 ? `, rejoined ${member.rejoins} time(s)` : ''}${member.leads > 0 ? `, led ${member.leads} generation(s)` : ''}${member.lost ? `; ${member.lost}` : ''}`,
        groupId: k.groupId,
        memberId: member.memberId,
        generation: member.generation,
        assignment: Object.fromEntries(member.assignment),
        rejoins: member.rejoins,
        leads: member.leads,
        ...(member.lost ? { lost: member.lost } : {}),
      };
    },
    heal() {
      if (left) return Promise.resolve();
      healing ??= (async () => {
        try {
          await member.leave();
          left = true;
        } catch (err) {
          throw StreamproofError.at(
            'FAULT_HEAL_FAILED',
            `healing rebalance of ${k.groupId}: LeaveGroup of ${member.memberId} failed: ${messageOf(err)}`,
            { faultId, cause: err },
          );
        } finally {
          healing = undefined;
        }
      })();
      return healing;
    },
  };
  return fault;
}

/** How the harness member joins `group`, or why it cannot (an Error naming the group, its protocol and the reason). */
export function joinHow(group: GroupDescription | undefined, groupId: string): JoinHow {
  if (!group || group.members.length === 0) {
    throw new Error(
      `the group ${groupId} has no member (${group ? group.state : 'unknown to its coordinator'}): nothing to rebalance (does the SUT consume with STREAMPROOF_GROUP_ID?)`,
    );
  }
  if (group.type === 'consumer') return { type: 'consumer' };
  if (group.type !== 'classic') {
    throw new Error(
      `the group ${groupId} is a ${group.brokerType} group: the harness joins classic and consumer groups only`,
    );
  }
  if (group.protocolType !== 'consumer') {
    throw new Error(
      `the group ${groupId} has protocol type "${group.protocolType}", not "consumer": its members' metadata is not a consumer subscription the harness could write`,
    );
  }
  if (!(STANDARD_ASSIGNORS as readonly string[]).includes(group.protocol)) {
    const streams =
      group.protocol === 'stream'
        ? " (Kafka Streams: its assignor reads each member's process id and task state from the subscription; a member without them, or with a copy of another's, would be given tasks as if it were a Streams thread)"
        : '';
    throw new Error(
      `the group ${groupId} uses the assignor "${group.protocol}"${streams}: the harness joins groups whose assignor reads a plain subscription (${STANDARD_ASSIGNORS.join(', ')})`,
    );
  }
  return { type: 'classic', protocolType: group.protocolType, protocol: group.protocol };
}
