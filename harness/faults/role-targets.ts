/**
 * Role targets: a fault aimed at whichever broker holds a role in the cluster when the fault starts, not at a fixed
 * broker id. A role is resolved when the fault is applied (apply-roles.ts), to `broker:N` for process kinds (`kill`,
 * `pause`, `restart`) and to the proxy of broker N (`sut->broker:N`) for connection kinds (`partition` and every
 * toxic), so the same two forms as fixed targets: `leader:events/0` for a process kind and `leader-move`,
 * `sut->leader:events/0` for a connection kind.
 *
 * - `leader:<topic>/<partition>`: the partition's current leader;
 * - `controller`: the active KRaft controller (the leader of the metadata quorum);
 * - `group-coordinator`: the coordinator of the SUT's consumer group;
 * - `txn-coordinator`: the coordinator of the SUT's transactional ids (rule in docs/faults.md and FaultRoles).
 */

export const ROLE_NAMES = ['leader', 'controller', 'group-coordinator', 'txn-coordinator'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

/** A role target as written, without the `sut->` of the connection form. */
export type RoleTargetName = `leader:${string}` | 'controller' | 'group-coordinator' | 'txn-coordinator';

export type Role =
  | { readonly role: 'leader'; readonly topic: string; readonly partition: number }
  | { readonly role: 'controller' | 'group-coordinator' | 'txn-coordinator' };

export interface ParsedRoleTarget {
  /** `process` (`leader:events/0`) or `connection` (`sut->leader:events/0`). */
  readonly via: 'process' | 'connection';
  readonly role: Role;
  /** The role as written without `sut->`, e.g. `leader:events/0`: the `role` of a history record's `resolved`. */
  readonly name: string;
}

// Kafka's topic names: letters, digits, '.', '_', '-', at most 249.
const LEADER = /^leader:([A-Za-z0-9._-]{1,249})\/(0|[1-9]\d{0,8})$/;

/** Parses a role target (either form); `undefined` when it is not one. */
export function parseRoleTarget(target: string): ParsedRoleTarget | undefined {
  const via = target.startsWith('sut->') ? 'connection' : 'process';
  const name = via === 'connection' ? target.slice('sut->'.length) : target;
  if (name === 'controller' || name === 'group-coordinator' || name === 'txn-coordinator') {
    return { via, role: { role: name }, name };
  }
  const m = LEADER.exec(name);
  if (m) return { via, role: { role: 'leader', topic: m[1]!, partition: Number(m[2]) }, name };
  return undefined;
}

/** True for anything that starts like a role target (`leader:`, `controller`, ...), valid or not: for messages. */
export function looksLikeRole(target: string): boolean {
  const name = target.startsWith('sut->') ? target.slice('sut->'.length) : target;
  return name.startsWith('leader:') || name === 'leader' || ROLE_NAMES.some((r) => r !== 'leader' && name === r);
}
