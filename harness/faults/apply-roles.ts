/**
 * Faults aimed at a role (role-targets.ts): the role is resolved from the cluster when the fault is applied, and the
 * fault is then applied to the broker that holds it (`broker:N` for process kinds, `sut->broker:N` for connection
 * kinds); the ActiveFault carries `resolved: { role, brokerId }` for the history. And `leader-move`: a partition's
 * leadership moved to another in-sync replica (its replicas reordered with that one first, the preferred replica
 * elected); the heal restores the original order and elects the preferred replica again.
 *
 * A role that cannot be resolved (no leader, no transactional id yet, the cluster not answering) fails the apply
 * (`FAULT_APPLY_FAILED`) with the reason; nothing was applied then.
 */
import { messageOf, StreamproofError } from '../util/errors.ts';
import type { ActiveFault, ApplyOptions } from './apply.ts';
import { type Part, part, partsFault } from './apply-parts.ts';
import type { FaultContext } from './context.ts';
import { type ParsedRoleTarget, parseRoleTarget, type Role } from './role-targets.ts';
import { type FaultSpec, isNetworkFault, isProcessFault, type LeaderMoveFault } from './spec.ts';
import type { FaultRoles } from './stack-roles.ts';

/** The role a fault was aimed at and the broker that held it when the fault started. */
export interface ResolvedRole {
  /** As written, without `sut->`: `leader:events/0`, `controller`, `group-coordinator`, `txn-coordinator`. */
  readonly role: string;
  readonly brokerId: number;
  /** `leader-move`: the broker the leadership was moved to. */
  readonly movedTo?: number;
}

/** How a resolved role reads in the history's `target` and the reports: `leader:events/0 → broker:2`. */
export function resolvedText(target: string, r: ResolvedRole): string {
  return `${target} → broker:${r.brokerId}${r.movedTo === undefined ? '' : ` (moved to broker:${r.movedTo})`}`;
}

type Apply = (spec: FaultSpec, ctx: FaultContext, opts?: ApplyOptions) => Promise<ActiveFault>;

/** Applies a fault whose target is a role (or a `leader-move`); see the module comment. */
export async function applyRoleFault(
  spec: FaultSpec,
  ctx: FaultContext,
  opts: ApplyOptions,
  apply: Apply,
): Promise<ActiveFault> {
  const faultId = opts.faultId ?? spec.name ?? spec.kind;
  const target = parseRoleTarget(spec.target ?? '');
  const unknown = (why: string) =>
    StreamproofError.at('FAULT_UNKNOWN_TARGET', `a ${spec.kind} fault cannot target ${spec.target}: ${why}`, {
      faultId,
    });
  if (!target) throw unknown('not a role target');
  const roles = ctx.roles;
  if (!roles) throw unknown('this fault context cannot read the cluster roles');
  if (spec.kind === 'leader-move') {
    if (target.via !== 'process' || target.role.role !== 'leader') {
      throw unknown('a leader-move takes "leader:<topic>/<partition>"');
    }
    return leaderMove(spec, target.role, target, roles, faultId);
  }
  const viaOk = target.via === 'connection' ? isNetworkFault(spec) : isProcessFault(spec);
  if (!viaOk) throw unknown(target.via === 'connection' ? 'it needs a process target' : 'it needs a connection target');

  let brokerId: number;
  try {
    brokerId = await resolve(target.role, roles);
  } catch (err) {
    throw StreamproofError.at(
      'FAULT_APPLY_FAILED',
      `${spec.kind} on ${spec.target} failed: the ${target.name} could not be resolved: ${messageOf(err)}`,
      { faultId, cause: err },
    );
  }
  const concrete = target.via === 'process' ? `broker:${brokerId}` : `sut->broker:${brokerId}`;
  const inner = await apply({ ...spec, target: concrete } as FaultSpec, ctx, { ...opts, faultId });
  return {
    spec,
    targets: inner.targets,
    toxics: inner.toxics,
    resolved: { role: target.name, brokerId },
    get healed() {
      return inner.healed;
    },
    heal: () => inner.heal(),
    ...(inner.ended ? { ended: inner.ended } : {}),
  };
}

/** The broker id holding `role` now; throws an Error saying why when there is none. */
export async function resolve(role: Role, roles: FaultRoles): Promise<number> {
  switch (role.role) {
    case 'leader': {
      const s = await roles.partition(role.topic, role.partition);
      if (s.leader < 0) {
        throw new Error(
          `${s.topic}/${s.partition} has no leader (replicas ${s.replicas.join(',')}, isr ${s.isr.join(',') || 'none'})`,
        );
      }
      return s.leader;
    }
    case 'controller':
      return roles.controller();
    case 'group-coordinator':
      return roles.groupCoordinator();
    case 'txn-coordinator':
      return (await roles.txnCoordinator()).brokerId;
  }
}

async function leaderMove(
  spec: LeaderMoveFault,
  role: Extract<Role, { role: 'leader' }>,
  target: ParsedRoleTarget,
  roles: FaultRoles,
  faultId: string,
): Promise<ActiveFault> {
  const failed = (why: string, cause?: unknown) =>
    StreamproofError.at('FAULT_APPLY_FAILED', `leader-move on ${spec.target} failed: ${why}`, { faultId, cause });
  let state: Awaited<ReturnType<FaultRoles['partition']>>;
  try {
    state = await roles.partition(role.topic, role.partition);
  } catch (err) {
    throw failed(`the partition could not be read: ${messageOf(err)}`, err);
  }
  const { topic, partition, leader, replicas, isr } = state;
  if (leader < 0) throw failed(`${topic}/${partition} has no leader (isr ${isr.join(',') || 'none'})`);
  if (replicas.length < 2) {
    throw failed(`${topic}/${partition} has one replica (replication factor 1): there is no other broker to lead it`);
  }
  const to = replicas.find((r) => r !== leader && isr.includes(r));
  if (to === undefined) {
    throw failed(
      `${topic}/${partition} has no other in-sync replica (replicas ${replicas.join(',')}, isr ${isr.join(',')})`,
    );
  }
  const original = [...replicas];
  const moved = [to, ...replicas.filter((r) => r !== to)];
  try {
    await roles.reorderAndElect(topic, partition, moved);
  } catch (err) {
    // Whatever took effect (the new order, perhaps the election) is put back before the error.
    const back = await roles.reorderAndElect(topic, partition, original).then(
      () => '',
      (e: unknown) => `; putting the original order back also failed: ${messageOf(e)}`,
    );
    throw failed(`${messageOf(err)}${back}`, err);
  }
  const parts: Part[] = [
    part(`${topic}/${partition} replicas ${moved.join(',')}`, () => roles.reorderAndElect(topic, partition, original)),
  ];
  return partsFault(spec, faultId, parts, {
    targets: [`broker:${leader}`, `broker:${to}`],
    toxics: [],
    resolved: { role: target.name, brokerId: leader, movedTo: to },
  });
}
