/**
 * Applying a fault and healing it. A fault is applied as parts (one toxic on one proxy direction, one disabled
 * proxy, one killed process), and each part knows its own undo, so:
 * - a fault that fails half-way is rolled back before the error is thrown (nothing is left half-applied);
 * - `heal()` undoes every part even when one undo fails (the others still heal), and can be called again to retry
 *   the parts that failed;
 * - heals are by name and tolerate change: a toxic or proxy already gone (404) counts as healed.
 *
 * Overlapping faults that hold the same thing (two partitions of one proxy, two pauses of one process, a kill and a
 * restart of one process) are counted per context: the thing comes back when the last of them heals.
 * `healAll` is the runner's `finally`: Toxiproxy reset (every proxy enabled, no toxics) and every process resumed
 * and started, whatever the faults believed.
 *
 * A rolling restart is applied once its first broker is down, and then goes on by itself (apply-rolling-restart.ts).
 * The parts and the holds are in apply-parts.ts.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf, StreamproofError } from '../util/errors.ts';
import { applyGroupFault, healGroupFaults } from './apply-group.ts';
import { heldPart, hold, holdsOf, type Part, part, partsFault, release, undoAll } from './apply-parts.ts';
import { applyRoleFault, type ResolvedRole } from './apply-roles.ts';
import { abortableSleep, rollingRestart } from './apply-rolling-restart.ts';
import { applySchemaUpgrade } from './apply-schema.ts';
import { everyProcess, type FaultContext, type ProcessTarget, proxiesOf, type ToxicBody } from './context.ts';
import { parseRoleTarget } from './role-targets.ts';
import { type FaultSpec, isToxicFault, parseTarget, type ToxicFault } from './spec.ts';

export interface ActiveFault {
  readonly spec: FaultSpec;
  /** What it acts on: proxy names (`broker-1`) or process names (`broker:2`, `sut:0`). */
  readonly targets: readonly string[];
  /** The names of the toxics it added (empty for other kinds). */
  readonly toxics: readonly string[];
  readonly healed: boolean;
  /** Undo it. Idempotent; a failed heal can be retried (only the parts not yet healed run again). */
  heal(): Promise<void>;
  /**
   * Faults that end by themselves (a rolling restart): settles when it is over, rejects when it could not go on
   * (its message says where it stopped). Heal it after either.
   */
  readonly ended?: Promise<void>;
  /** What it did, for the history and reports (a schema upgrade: its verdict); `summary` is one line for people. */
  readonly detail?: FaultDetail;
  /** A role target (`leader:events/0`, `controller`, ...): the role and the broker that held it (apply-roles.ts). */
  readonly resolved?: ResolvedRole;
}

/** A fault's own account of what it did; carried by its history records (`FaultRecord.detail`). */
export type FaultDetail = { readonly summary: string } & Readonly<Record<string, unknown>>;

export interface ApplyOptions {
  faultId?: string;
  /** Resolves after `ms`, or early (never rejecting) when `signal` aborts. Default: real timers. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Epoch ms. Default Date.now. */
  now?: () => number;
}

/**
 * Applies `spec` in `ctx` and returns the fault in effect. Throws StreamproofError `FAULT_UNKNOWN_TARGET` (nothing
 * applied) or `FAULT_APPLY_FAILED` (whatever had taken effect was undone first).
 */
export async function applyFault(spec: FaultSpec, ctx: FaultContext, opts: ApplyOptions = {}): Promise<ActiveFault> {
  const faultId = opts.faultId ?? spec.name ?? spec.kind;
  if (spec.kind === 'schema-upgrade') return applySchemaUpgrade(spec, ctx, faultId);
  if (spec.kind === 'fence' || spec.kind === 'rebalance') return applyGroupFault(spec, ctx, faultId);
  if (spec.kind === 'leader-move' || parseRoleTarget(spec.target)) return applyRoleFault(spec, ctx, opts, applyFault);
  const target = parseTarget(spec.target);
  if (!target) throw StreamproofError.at('FAULT_UNKNOWN_TARGET', `not a target: ${spec.target}`, { faultId });
  if (target.type === 'cluster' || spec.kind === 'rolling-restart') {
    if (spec.kind !== 'rolling-restart' || target.type !== 'cluster') {
      throw StreamproofError.at('FAULT_UNKNOWN_TARGET', `a ${spec.kind} fault cannot target ${spec.target}`, {
        faultId,
      });
    }
    return rollingRestart(spec, ctx, faultId, opts.sleep ?? abortableSleep, opts.now ?? Date.now);
  }
  let actions: (() => Promise<Part>)[];
  let targets: string[];
  const toxics: string[] = [];
  if (target.type === 'connection') {
    if (spec.kind !== 'partition' && !isToxicFault(spec)) {
      throw StreamproofError.at('FAULT_UNKNOWN_TARGET', `a ${spec.kind} fault needs a process target`, { faultId });
    }
    targets = proxiesOf(target, ctx);
    if (spec.kind === 'partition') {
      actions = targets.map((proxy) => () => disableProxy(ctx, proxy));
    } else {
      const bodies = toxicBodies(spec, faultId);
      toxics.push(...bodies.map((b) => b.name));
      // Connections closing under slow_close stay open (and registered in Toxiproxy) for delayMs after the toxic is
      // removed; Toxiproxy 2.12 can panic when a toxic is added to a proxy while such a connection lingers
      // (ToxicLink.AddToxic, index out of range). So the heal returns once they are gone.
      const linger = spec.kind === 'slow_close' ? spec.delayMs : 0;
      actions = targets.flatMap((proxy) => bodies.map((body) => () => addToxic(ctx, proxy, body, linger)));
    }
  } else {
    if (spec.kind !== 'kill' && spec.kind !== 'pause' && spec.kind !== 'restart') {
      throw StreamproofError.at('FAULT_UNKNOWN_TARGET', `a ${spec.kind} fault needs a connection target`, { faultId });
    }
    const procs = ctx.processes(target);
    targets = procs.map((p) => p.name);
    const kind = spec.kind;
    actions = procs.map((p) => () => processFault(ctx, kind, p));
  }

  const settled = await Promise.allSettled(actions.map((a) => a()));
  const parts = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
  if (failures.length > 0) {
    const rollback = await undoAll(parts);
    const also = rollback.length > 0 ? `; rolling back also failed: ${rollback.map(messageOf).join('; ')}` : '';
    throw StreamproofError.at(
      'FAULT_APPLY_FAILED',
      `${spec.kind} on ${spec.target} failed: ${failures.map(messageOf).join('; ')}${also}`,
      { faultId, cause: failures[0] },
    );
  }

  return partsFault(spec, faultId, parts, { targets, toxics });
}

/**
 * Back to a clean state, whatever happened: Toxiproxy reset (every proxy enabled, every toxic removed), every
 * process (every broker, every SUT instance) resumed, and started unless it runs. Every step is tried; the errors
 * are thrown together at the end as StreamproofError `FAULT_HEAL_FAILED`. Call it before stopping the SUT on purpose.
 */
export async function healAll(ctx: FaultContext): Promise<void> {
  holdsOf(ctx).clear();
  const errors: unknown[] = await healGroupFaults(ctx);
  try {
    await ctx.toxiproxy.reset();
  } catch (err) {
    errors.push(new Error(`toxiproxy reset: ${messageOf(err)}`));
  }
  let procs: ProcessTarget[] = [];
  try {
    procs = everyProcess(ctx);
  } catch (err) {
    errors.push(err);
  }
  const settled = await Promise.allSettled(
    procs.map(async (p) => {
      try {
        await p.resume();
        if (!p.running()) await p.start();
      } catch (err) {
        throw new Error(`${p.name}: ${messageOf(err)}`);
      }
    }),
  );
  for (const s of settled) if (s.status === 'rejected') errors.push(s.reason);
  if (errors.length > 0) {
    throw StreamproofError.at('FAULT_HEAL_FAILED', `healAll: ${errors.map(messageOf).join('; ')}`, {
      cause: errors[0],
    });
  }
}

// Unique across harness processes sharing one Toxiproxy (a `stack up` used by several runs).
const session = randomBytes(3).toString('hex');
let counter = 0;

function toxicBodies(spec: ToxicFault, faultId: string): ToxicBody[] {
  const base = `sp-${session}-${++counter}-${faultId.replace(/[^A-Za-z0-9_.-]/g, '_')}-${spec.kind}`;
  const streams =
    spec.stream === undefined || spec.stream === 'both' ? (['upstream', 'downstream'] as const) : [spec.stream];
  const attributes = toxicAttributes(spec);
  return streams.map((stream) => ({
    name: `${base}-${stream === 'upstream' ? 'up' : 'down'}`,
    type: spec.kind,
    stream,
    toxicity: spec.toxicity ?? 1,
    attributes,
  }));
}

/** The spec's attributes in Toxiproxy's names, with the defaults filled in. */
export function toxicAttributes(spec: ToxicFault): Record<string, number> {
  switch (spec.kind) {
    case 'latency':
      return { latency: spec.latencyMs, jitter: spec.jitterMs ?? 0 };
    case 'bandwidth':
      return { rate: spec.rateKBps };
    case 'slow_close':
      return { delay: spec.delayMs };
    case 'timeout':
      return { timeout: spec.timeoutMs ?? 0 };
    case 'reset_peer':
      return { timeout: spec.timeoutMs ?? 0 };
    case 'slicer':
      return { average_size: spec.averageSize, size_variation: spec.sizeVariation ?? 0, delay: spec.delayUs ?? 0 };
    case 'limit_data':
      return { bytes: spec.bytes };
  }
}

async function addToxic(ctx: FaultContext, proxyName: string, body: ToxicBody, lingerMs: number): Promise<Part> {
  const proxy = await ctx.toxiproxy.get(proxyName);
  await proxy.addToxic(body);
  return part(`toxic ${body.name} on ${proxyName}`, async () => {
    try {
      const p = await ctx.toxiproxy.get(proxyName);
      await (await p.getToxic(body.name)).remove();
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (lingerMs > 0) await sleep(lingerMs);
  });
}

async function disableProxy(ctx: FaultContext, proxyName: string): Promise<Part> {
  const key = `proxy:${proxyName}`;
  const proxy = await ctx.toxiproxy.get(proxyName);
  hold(ctx, key);
  try {
    await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
  } catch (err) {
    release(ctx, key);
    throw err;
  }
  return heldPart(ctx, `proxy ${proxyName} disabled`, key, async () => {
    try {
      const p = await ctx.toxiproxy.get(proxyName);
      if (!p.enabled) await p.update({ enabled: true, listen: p.listen, upstream: p.upstream });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  });
}

async function processFault(ctx: FaultContext, kind: 'kill' | 'pause' | 'restart', p: ProcessTarget): Promise<Part> {
  if (kind === 'pause') {
    const key = `pause:${p.name}`;
    hold(ctx, key);
    await p.pause();
    return heldPart(ctx, `${p.name} paused`, key, async () => p.resume());
  }
  // kill and restart both hold the process down: it starts again when the last of them heals.
  const key = `down:${p.name}`;
  hold(ctx, key);
  try {
    if (kind === 'kill') await p.kill();
    else await p.stop();
  } catch (err) {
    release(ctx, key);
    throw err;
  }
  return heldPart(ctx, `${p.name} ${kind === 'kill' ? 'killed' : 'stopped'}`, key, async () => {
    if (!p.running()) await p.start();
  });
}

/** toxiproxy-node-client reports HTTP errors as `Request failed with status code N`. */
function isNotFound(err: unknown): boolean {
  return /status code 404\b/.test(messageOf(err));
}
