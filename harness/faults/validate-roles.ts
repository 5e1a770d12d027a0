/**
 * Validation of role targets (role-targets.ts) and of `leader-move`, with errors that name the field as the rest of
 * validate.ts does. Which broker holds a role is only known when the fault starts; what is refused here is what can
 * never work: a connection kind with the process form or the other way round, a `leader-move` on anything but a
 * partition leader, a partition beyond the scenario topic's partitions, a `leader-move` on a stack of one broker or a
 * scenario topic of replication factor 1.
 */
import { StreamproofError } from '../util/errors.ts';
import { parseRoleTarget } from './role-targets.ts';
import { type FaultKind, NETWORK_KINDS, PROCESS_KINDS } from './spec.ts';

/** The part of FaultLimits role targets use. */
export interface RoleLimits {
  brokers?: number | readonly number[];
  /** The scenario's topics by name as written: `leader:<topic>/<p>` on one of them is checked against it. */
  topics?: Readonly<Record<string, { readonly partitions: number; readonly replicationFactor: number }>>;
}

const ROLES = '"leader:<topic>/<partition>", "controller", "group-coordinator" or "txn-coordinator"';

/** Checks a role target for a fault of `kind` (or the target of a `leader-move`); throws INVALID_SCENARIO. */
export function roleTarget(kind: FaultKind, value: unknown, path: string, limits: RoleLimits): void {
  const parsed = typeof value === 'string' ? parseRoleTarget(value) : undefined;
  const network = (NETWORK_KINDS as readonly string[]).includes(kind);
  const proc = (PROCESS_KINDS as readonly string[]).includes(kind);
  if (kind === 'leader-move') {
    if (parsed?.via !== 'process' || parsed.role.role !== 'leader') {
      fail(path, `"leader:<topic>/<partition>" for a leader-move fault (the partition whose leadership moves)`, value);
    }
    const n = typeof limits.brokers === 'number' ? limits.brokers : limits.brokers?.length;
    if (n !== undefined && n < 2) {
      fail(
        path,
        `a stack of 3 brokers for a leader-move fault (it needs a replica to move to; this stack has ${n})`,
        value,
      );
    }
  } else if (network) {
    if (!parsed) fail(path, `a connection target ("sut->kafka", "sut->broker:N" or "sut->" and ${ROLES})`, value);
    if (parsed.via !== 'connection') {
      fail(
        path,
        `a connection target for a ${kind} fault: "sut->${parsed.name}" (the SUT's path to that broker)`,
        value,
      );
    }
  } else if (proc) {
    if (!parsed) fail(path, `a process target ("sut", "sut:I", "broker:N" or ${ROLES})`, value);
    if (parsed.via !== 'process') {
      fail(path, `a process target for a ${kind} fault: "${parsed.name}" (the broker process, without "sut->")`, value);
    }
  } else {
    fail(path, `a target of a ${kind} fault (role targets are for process, network and leader-move faults)`, value);
  }
  if (parsed.role.role !== 'leader') return;
  const topic =
    limits.topics && Object.hasOwn(limits.topics, parsed.role.topic) ? limits.topics[parsed.role.topic] : undefined;
  if (!topic) return;
  if (parsed.role.partition >= topic.partitions) {
    fail(path, `a partition of ${parsed.role.topic} from 0 to ${topic.partitions - 1}`, value);
  }
  if (kind === 'leader-move' && topic.replicationFactor < 2) {
    fail(
      path,
      `a topic of replication factor 2 or more for a leader-move fault (${parsed.role.topic} has ${topic.replicationFactor}: set stack.brokers 3 and stack.replicationFactor)`,
      value,
    );
  }
}

function fail(path: string, expected: string, got: unknown): never {
  throw new StreamproofError(
    'INVALID_SCENARIO',
    `${path}: expected ${expected}, got ${JSON.stringify(got) ?? 'nothing'}`,
    {
      path,
    },
  );
}
