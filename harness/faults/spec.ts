/**
 * Fault specs: plain data, exactly as a scenario writes them (durations stay as written, e.g. "5s"), so a result can
 * echo the spec and a person can read it. `validateFault` (validate.ts) turns `unknown` into these types.
 *
 * Model (after Jepsen's nemesis): a fault is one failure with its heal. Network faults act on the Toxiproxy proxies
 * in front of the brokers (the SUT's only path to Kafka); process faults signal real processes (SUT instances,
 * brokers). Every fault has a start (`at`, from the start of the load) and, except an open-ended kill, a heal.
 * A cluster fault (`rolling-restart`) acts on every broker in turn and ends by itself.
 */

import type { RoleTargetName } from './role-targets.ts';

/** "250ms", "5s", "2m", "1h", or a number of milliseconds. */
export type Duration = string | number;

/** When a fault starts, from the start of the load; `"random"` draws it from the run's seed (see schedule.ts). */
export type FaultAt = Duration | 'random';

/** Toxiproxy's own toxic types; each is one fault kind with the same name. */
export const TOXIC_KINDS = [
  'latency',
  'bandwidth',
  'slow_close',
  'timeout',
  'reset_peer',
  'slicer',
  'limit_data',
] as const;
export type ToxicKind = (typeof TOXIC_KINDS)[number];

export const NETWORK_KINDS = [...TOXIC_KINDS, 'partition'] as const;
export type NetworkKind = (typeof NETWORK_KINDS)[number];

export const PROCESS_KINDS = ['kill', 'pause', 'restart'] as const;
export type ProcessKind = (typeof PROCESS_KINDS)[number];

/** Faults over the whole cluster: they act on every broker in turn and end by themselves. */
export const CLUSTER_KINDS = ['rolling-restart'] as const;
export type ClusterKind = (typeof CLUSTER_KINDS)[number];

/** Faults on the SUT's Kafka identity: its transactional ids (`fence`) and its consumer group (`rebalance`). */
export const GROUP_KINDS = ['fence', 'rebalance'] as const;
export type GroupKind = (typeof GROUP_KINDS)[number];

/** Changes to what the load writes (no target of their own): a live schema upgrade of the input events. */
export const LOAD_KINDS = ['schema-upgrade'] as const;
export type LoadKind = (typeof LOAD_KINDS)[number];

/** Faults on a partition's leadership (role target `leader:<topic>/<partition>`; role-targets.ts). */
export const LEADER_KINDS = ['leader-move'] as const;
export type LeaderKind = (typeof LEADER_KINDS)[number];

export const FAULT_KINDS = [
  ...NETWORK_KINDS,
  ...PROCESS_KINDS,
  ...CLUSTER_KINDS,
  ...GROUP_KINDS,
  ...LOAD_KINDS,
  ...LEADER_KINDS,
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Which direction of a connection a toxic acts on: `upstream` client -> broker, `downstream` broker -> client. */
export const TOXIC_STREAMS = ['upstream', 'downstream', 'both'] as const;
export type ToxicStream = (typeof TOXIC_STREAMS)[number];

/** `sut->kafka` (every broker proxy) or `sut->broker:N` (the proxy of broker N, `broker-N`). */
export type ConnectionTarget = 'sut->kafka' | `sut->broker:${number}` | `sut->${RoleTargetName}`;
/**
 * `sut` (every SUT instance), `sut:I` (instance I, 0-based as STREAMPROOF_INSTANCE), `sut:<component>` (a component
 * of the SUT other than its instances, e.g. the reference SUT's `sut:lake` and `sut:collector`), `broker:N` (broker
 * id N).
 */
export type ProcessTargetName = 'sut' | `sut:${number}` | `sut:${string}` | `broker:${number}` | RoleTargetName;
/** `brokers`: every broker of the stack, in id order (cluster faults). */
export type ClusterTarget = 'brokers';
export type FaultTarget = ConnectionTarget | ProcessTargetName | ClusterTarget;

interface FaultBase {
  /** Start, from the start of the load. */
  at: FaultAt;
  /** A human name; when given it is the fault's id in the history (unique within a scenario). */
  name?: string;
}

interface ToxicBase extends FaultBase {
  /** How long the toxic stays; removed at `at + for`. */
  for: Duration;
  target: ConnectionTarget;
  /** Default `both`: one toxic per direction. */
  stream?: ToxicStream;
  /** Fraction of connections affected, 0..1. Default 1. */
  toxicity?: number;
}

/** Every byte waits `latencyMs` +/- `jitterMs`. */
export interface LatencyFault extends ToxicBase {
  kind: 'latency';
  latencyMs: number;
  /** Default 0. */
  jitterMs?: number;
}

/** At most `rateKBps` kilobytes per second. */
export interface BandwidthFault extends ToxicBase {
  kind: 'bandwidth';
  rateKBps: number;
}

/** A closing socket stays open `delayMs` longer. */
export interface SlowCloseFault extends ToxicBase {
  kind: 'slow_close';
  delayMs: number;
}

/** No data passes; the connection is closed after `timeoutMs` (0, the default: held open until healed). */
export interface TimeoutFault extends ToxicBase {
  kind: 'timeout';
  timeoutMs?: number;
}

/** Connections are reset (TCP RST) after `timeoutMs` (default 0: at once). */
export interface ResetPeerFault extends ToxicBase {
  kind: 'reset_peer';
  timeoutMs?: number;
}

/** Data is cut into pieces of about `averageSize` +/- `sizeVariation` bytes, `delayUs` microseconds apart. */
export interface SlicerFault extends ToxicBase {
  kind: 'slicer';
  averageSize: number;
  /** Default 0. */
  sizeVariation?: number;
  /** Default 0. */
  delayUs?: number;
}

/** A connection is closed once `bytes` bytes went through it. */
export interface LimitDataFault extends ToxicBase {
  kind: 'limit_data';
  bytes: number;
}

export type ToxicFault =
  | LatencyFault
  | BandwidthFault
  | SlowCloseFault
  | TimeoutFault
  | ResetPeerFault
  | SlicerFault
  | LimitDataFault;

/** The proxies are disabled: new connections are refused, open ones are closed. */
export interface PartitionFault extends FaultBase {
  kind: 'partition';
  for: Duration;
  target: ConnectionTarget;
}

/** SIGKILL. Restarted after `restartAfter` (or `for`, a synonym); with neither, when the schedule ends. */
export interface KillFault extends FaultBase {
  kind: 'kill';
  target: ProcessTargetName;
  restartAfter?: Duration;
  for?: Duration;
}

/** SIGSTOP for `for`, then SIGCONT. */
export interface PauseFault extends FaultBase {
  kind: 'pause';
  for: Duration;
  target: ProcessTargetName;
}

/** A clean stop (SIGTERM), then a start `for` later (default 0: at once). */
export interface RestartFault extends FaultBase {
  kind: 'restart';
  target: ProcessTargetName;
  for?: Duration;
}

/**
 * Every broker in turn (id order): wait until no partition is under-replicated, stop it cleanly (SIGTERM: controlled
 * shutdown), start it `for` later (default 0), wait until it is back in the cluster metadata; after the last one,
 * wait until the cluster is in sync again. Ends by itself; its heal starts any broker it left stopped.
 */
export interface RollingRestartFault extends FaultBase {
  kind: 'rolling-restart';
  target: ClusterTarget;
  /** Downtime of each broker between its stop and its start. Default 0. */
  for?: Duration;
  /** Longest wait for the cluster to be in sync before each broker (and after the last). Default "120s". */
  syncTimeout?: Duration;
}

/**
 * A producer of the harness takes over the SUT's transactional id(s) (InitProducerId with it), as a zombie takeover
 * does: the SUT's producer is fenced and its open transaction aborted. `target: "sut"` fences every id the SUT uses,
 * `"sut:I"` instance I's env-contract id; `transactionalId` names one id instead. Ends by itself.
 */
export interface FenceFault extends FaultBase {
  kind: 'fence';
  target: 'sut' | `sut:${number}`;
  transactionalId?: string;
}

/**
 * A member of the harness joins the SUT's consumer group (a rebalance), owns its share of the partitions for `for`
 * without reading or committing anything, then leaves (a second rebalance).
 */
export interface RebalanceFault extends FaultBase {
  kind: 'rebalance';
  target: 'sut';
  for: Duration;
}

export type GroupFault = FenceFault | RebalanceFault;

/**
 * A live schema upgrade (docs/schema-upgrade.md): the input subject gets the event schema of version `to` (or the
 * schema in the file `schema`), the registry's compatibility verdict is recorded, and the producers of the load write
 * version `to` from then on, without stopping. Ends by itself. Its target is the load (`"load"`, the default).
 */
export interface SchemaUpgradeFault extends FaultBase {
  kind: 'schema-upgrade';
  /** Always `"load"` (filled in by the validation when the scenario leaves it out). */
  target: 'load';
  /** The schema version the producers write from the upgrade on (1, 2 or 3; not the starting one). */
  to: 1 | 2 | 3;
  /**
   * An Avro schema file (relative to the scenario file) registered instead of version `to`'s schema: an evolution of
   * your own, e.g. an incompatible one. The producers still write version `to`'s encoding, under its id.
   */
  schema?: string;
  /** The subject's compatibility level, set before the check; default: whatever the registry has. */
  compatibility?:
    | 'NONE'
    | 'BACKWARD'
    | 'BACKWARD_TRANSITIVE'
    | 'FORWARD'
    | 'FORWARD_TRANSITIVE'
    | 'FULL'
    | 'FULL_TRANSITIVE';
}

export type NetworkFault = ToxicFault | PartitionFault;
export type ProcessFault = KillFault | PauseFault | RestartFault;
export type ClusterFault = RollingRestartFault;
/**
 * The leadership of a partition moved to another in-sync replica for `for`: its replicas reordered with that one
 * first and the preferred replica elected; the heal restores the original order and elects the preferred one again.
 * Needs replication factor >= 2.
 */
export interface LeaderMoveFault extends FaultBase {
  kind: 'leader-move';
  target: `leader:${string}`;
  for: Duration;
}

export type FaultSpec = NetworkFault | ProcessFault | ClusterFault | GroupFault | SchemaUpgradeFault | LeaderMoveFault;

export function isToxicFault(spec: FaultSpec): spec is ToxicFault {
  return (TOXIC_KINDS as readonly string[]).includes(spec.kind);
}

export function isNetworkFault(spec: FaultSpec): spec is NetworkFault {
  return (NETWORK_KINDS as readonly string[]).includes(spec.kind);
}

export function isProcessFault(spec: FaultSpec): spec is ProcessFault {
  return (PROCESS_KINDS as readonly string[]).includes(spec.kind);
}

export function isGroupFault(spec: FaultSpec): spec is GroupFault {
  return (GROUP_KINDS as readonly string[]).includes(spec.kind);
}

export function isClusterFault(spec: FaultSpec): spec is ClusterFault {
  return (CLUSTER_KINDS as readonly string[]).includes(spec.kind);
}

/** A target, parsed. */
export type ParsedTarget =
  | { type: 'connection'; brokerId: number | 'all' }
  | { type: 'process'; role: 'sut'; instance: number | 'all' }
  /** `sut:<component>`: a named component of the SUT (the reference SUT's `lake`, `collector`). */
  | { type: 'process'; role: 'sut'; component: string }
  | { type: 'process'; role: 'broker'; id: number }
  | { type: 'cluster'; role: 'brokers' };

/** The process half of ParsedTarget: what `FaultContext.processes` is asked for. */
export type ProcessSelector = Extract<ParsedTarget, { type: 'process' }>;

const INT = '(0|[1-9]\\d{0,8})';
const CONNECTION = new RegExp(`^sut->(?:kafka|broker:${INT})$`);
const SUT = new RegExp(`^sut(?::${INT})?$`);
const BROKER = new RegExp(`^broker:${INT}$`);
/** A component name: lowercase, starting with a letter (so never an instance number). */
const SUT_COMPONENT = /^sut:([a-z][a-z0-9-]{0,31})$/;

/** Parses a target string; `undefined` when it is not one of the seven forms. */
export function parseTarget(target: string): ParsedTarget | undefined {
  if (target === 'brokers') return { type: 'cluster', role: 'brokers' };
  let m = CONNECTION.exec(target);
  if (m) return { type: 'connection', brokerId: m[1] === undefined ? 'all' : Number(m[1]) };
  m = SUT.exec(target);
  if (m) return { type: 'process', role: 'sut', instance: m[1] === undefined ? 'all' : Number(m[1]) };
  m = SUT_COMPONENT.exec(target);
  if (m) return { type: 'process', role: 'sut', component: m[1]! };
  m = BROKER.exec(target);
  if (m) return { type: 'process', role: 'broker', id: Number(m[1]) };
  return undefined;
}
