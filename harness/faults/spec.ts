/**
 * Fault specs: plain data, exactly as a scenario writes them (durations stay as written, e.g. "5s"), so a result can
 * echo the spec and a person can read it. `validateFault` (validate.ts) turns `unknown` into these types.
 *
 * Model (after Jepsen's nemesis): a fault is one failure with its heal. Network faults act on the Toxiproxy proxies
 * in front of the brokers (the SUT's only path to Kafka); process faults signal real processes (SUT instances,
 * brokers). Every fault has a start (`at`, from the start of the load) and, except an open-ended kill, a heal.
 * A cluster fault (`rolling-restart`) acts on every broker in turn and ends by itself.
 */

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

export const FAULT_KINDS = [...NETWORK_KINDS, ...PROCESS_KINDS, ...CLUSTER_KINDS] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Which direction of a connection a toxic acts on: `upstream` client -> broker, `downstream` broker -> client. */
export const TOXIC_STREAMS = ['upstream', 'downstream', 'both'] as const;
export type ToxicStream = (typeof TOXIC_STREAMS)[number];

/** `sut->kafka` (every broker proxy) or `sut->broker:N` (the proxy of broker N, `broker-N`). */
export type ConnectionTarget = 'sut->kafka' | `sut->broker:${number}`;
/**
 * `sut` (every SUT instance), `sut:I` (instance I, 0-based as STREAMPROOF_INSTANCE), `sut:<component>` (a component
 * of the SUT other than its instances, e.g. the reference SUT's `sut:lake` and `sut:collector`), `broker:N` (broker
 * id N).
 */
export type ProcessTargetName = 'sut' | `sut:${number}` | `sut:${string}` | `broker:${number}`;
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

export type NetworkFault = ToxicFault | PartitionFault;
export type ProcessFault = KillFault | PauseFault | RestartFault;
export type ClusterFault = RollingRestartFault;
export type FaultSpec = NetworkFault | ProcessFault | ClusterFault;

export function isToxicFault(spec: FaultSpec): spec is ToxicFault {
  return (TOXIC_KINDS as readonly string[]).includes(spec.kind);
}

export function isNetworkFault(spec: FaultSpec): spec is NetworkFault {
  return (NETWORK_KINDS as readonly string[]).includes(spec.kind);
}

export function isProcessFault(spec: FaultSpec): spec is ProcessFault {
  return (PROCESS_KINDS as readonly string[]).includes(spec.kind);
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
