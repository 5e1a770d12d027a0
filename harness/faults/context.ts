/**
 * What faults act on, as a small interface: the Toxiproxy client (network faults), the broker ids (to name their
 * proxies `broker-<id>`), the processes a target names (process faults), and the cluster's replication state (a
 * rolling restart waits for it). The stack provides brokers; the runner provides SUT instances and components.
 * Tests provide fakes.
 */

import { underReplicatedPartitions } from '../kafka/clients.ts';
import type { ProcessControl } from '../stack/process.ts';
import type { BrokerHandle, StartedStack } from '../stack/stack.ts';
import { proxyName } from '../stack/toxiproxy.ts';
import { StreamproofError } from '../util/errors.ts';
import type { SutKafka } from './apply-group.ts';
import type { SchemaUpgrader } from './apply-schema.ts';
import type { ParsedTarget, ProcessSelector } from './spec.ts';
import { type FaultRoles, type RoleOptions, stackRoles } from './stack-roles.ts';

/** A process a fault can crash, freeze and bring back, named as targets name it (`broker:2`, `sut:0`, `sut:lake`). */
export interface ProcessTarget extends ProcessControl {
  readonly name: string;
}

/** The toxic body Toxiproxy takes. */
export interface ToxicBody {
  name: string;
  type: string;
  stream: 'upstream' | 'downstream';
  toxicity: number;
  attributes: Record<string, number>;
}

/** The part of toxiproxy-node-client's `Proxy` faults use. */
export interface ToxiproxyProxy {
  readonly name: string;
  readonly listen: string;
  readonly upstream: string;
  readonly enabled: boolean;
  update(body: { enabled: boolean; listen: string; upstream: string }): Promise<unknown>;
  addToxic(body: ToxicBody): Promise<unknown>;
  getToxic(name: string): Promise<{ remove(): Promise<void> }>;
}

/** The part of toxiproxy-node-client's `Toxiproxy` faults use. */
export interface ToxiproxyClient {
  get(name: string): Promise<ToxiproxyProxy>;
  /** POST /reset: every proxy enabled, every toxic removed. */
  reset(): Promise<void>;
}

export interface FaultContext {
  readonly toxiproxy: ToxiproxyClient;
  /** The brokers of the stack; broker N sits behind proxy `broker-N`. */
  readonly brokerIds: readonly number[];
  /** The processes a process target names; throws StreamproofError `FAULT_UNKNOWN_TARGET` when there are none. */
  processes(target: ProcessSelector): ProcessTarget[];
  /** The SUT's components (`sut:<name>` targets besides its instances, e.g. `lake`); none when omitted. */
  sutComponents?(): readonly string[];
  /**
   * The partitions of the cluster (every topic, internal ones too) that are not fully in sync, e.g.
   * `events/2 (isr 2 of 3)`; empty when the cluster is whole. Rejects when it cannot be read (not in sync, then).
   */
  underReplicated(): Promise<string[]>;
  /** How often a rolling restart asks `underReplicated` while it waits (default 500 ms). */
  readonly syncPollMs?: number;
  /** The load's schema, for `schema-upgrade` (set by the runner once the load runs; apply-schema.ts). */
  schema?: SchemaUpgrader;
  /** The SUT's group, input topic and transactional ids, for `fence` and `rebalance` (set by the runner; apply-group.ts). */
  sutKafka?: SutKafka;
  /** Who holds a role in the cluster now, for role targets and `leader-move` (stack-roles.ts); none: refused. */
  readonly roles?: FaultRoles;
}

/** The proxy names of a connection target. */
export function proxiesOf(target: Extract<ParsedTarget, { type: 'connection' }>, ctx: FaultContext): string[] {
  if (target.brokerId === 'all') return ctx.brokerIds.map(proxyName);
  if (!ctx.brokerIds.includes(target.brokerId)) {
    throw StreamproofError.at(
      'FAULT_UNKNOWN_TARGET',
      `sut->broker:${target.brokerId}: no such broker (this stack has ${ctx.brokerIds.join(', ')})`,
    );
  }
  return [proxyName(target.brokerId)];
}

/** A broker as a process target named `broker:<id>`. */
export function brokerProcess(h: BrokerHandle): ProcessTarget {
  return {
    name: `broker:${h.id}`,
    running: () => h.running(),
    kill: () => h.kill(),
    pause: () => h.pause(),
    resume: () => h.resume(),
    start: () => h.start(),
    stop: () => h.stop(),
  };
}

/**
 * The context for a started stack. `sut` returns the SUT instances (index = instance number, 0-based, named
 * `sut:<i>`); the runner passes it once it has started them. `components` returns the SUT's other processes by
 * component name (`lake` for target `sut:lake`; the reference SUT's lake sink and collector). Both are asked each
 * time, so restarted processes are seen. `roles` is what role targets need of the SUT: its group id, its
 * transactional id, its output topic and the run's topic suffix (stack-roles.ts).
 */
export function stackFaultContext(
  stack: StartedStack,
  sut: () => readonly ProcessTarget[] = () => [],
  components: () => Readonly<Record<string, ProcessTarget>> = () => ({}),
  roles: RoleOptions = {},
): FaultContext {
  const brokerIds = stack.status().kafka.brokers.map((b) => b.id);
  return {
    toxiproxy: stack.toxiproxy,
    brokerIds,
    roles: stackRoles(stack, roles),
    async underReplicated() {
      // Ask a running broker (their direct listeners): one being restarted refuses the connection.
      const brokers = stack.status().kafka.brokers;
      const up = brokers.filter((b) => b.running).map((b) => b.direct);
      const list = await underReplicatedPartitions(up.length > 0 ? up : brokers.map((b) => b.direct));
      return list.map((u) =>
        u.leader < 0
          ? `${u.topic}/${u.partition} (no leader)`
          : `${u.topic}/${u.partition} (isr ${u.isr} of ${u.replicas})`,
      );
    },
    sutComponents: () => Object.keys(components()).sort(),
    processes(target) {
      if (target.role === 'broker') {
        if (!brokerIds.includes(target.id)) {
          throw StreamproofError.at(
            'FAULT_UNKNOWN_TARGET',
            `broker:${target.id}: no such broker (this stack has ${brokerIds.join(', ')})`,
          );
        }
        return [brokerProcess(stack.broker(target.id))];
      }
      if ('component' in target) {
        const all = components();
        const one = Object.hasOwn(all, target.component) ? all[target.component] : undefined;
        if (!one) {
          const names = Object.keys(all).sort();
          throw StreamproofError.at(
            'FAULT_UNKNOWN_TARGET',
            `sut:${target.component}: no such SUT component (${
              names.length === 0
                ? 'this SUT has none: component targets are for the reference SUT'
                : names.map((n) => `sut:${n}`).join(', ')
            })`,
          );
        }
        return [one];
      }
      const all = sut();
      if (target.instance === 'all') {
        if (all.length === 0) throw StreamproofError.at('FAULT_UNKNOWN_TARGET', 'sut: no SUT instance is running');
        return [...all];
      }
      const one = all[target.instance];
      if (!one) {
        throw StreamproofError.at(
          'FAULT_UNKNOWN_TARGET',
          `sut:${target.instance}: no such SUT instance (${all.length} instance(s): sut:0..sut:${all.length - 1})`,
        );
      }
      return [one];
    },
  };
}

/** Every process a fault may have touched: every broker, every SUT instance and every SUT component (for healAll). */
export function everyProcess(ctx: FaultContext): ProcessTarget[] {
  const out: ProcessTarget[] = [];
  for (const id of ctx.brokerIds) out.push(...ctx.processes({ type: 'process', role: 'broker', id }));
  const sut: ProcessSelector[] = [
    { type: 'process', role: 'sut', instance: 'all' },
    ...(ctx.sutComponents?.() ?? []).map((component): ProcessSelector => ({ type: 'process', role: 'sut', component })),
  ];
  for (const target of sut) {
    try {
      out.push(...ctx.processes(target));
    } catch (err) {
      if (!(err instanceof StreamproofError && err.code === 'FAULT_UNKNOWN_TARGET')) throw err;
    }
  }
  return out;
}
