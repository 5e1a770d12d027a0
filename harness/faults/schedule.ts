/**
 * The nemesis schedule: every fault applied at `start + at` and healed at `start + at + for` (network faults and
 * pauses) or `for` / `restartAfter` after it really took effect (kills and restarts: the process stays down that
 * long). Faults may overlap; each runs on its own timeline. The history gets what really happened: a `fault`
 * record with phase `start` once a fault took effect and `heal` once it was undone, stamped with the real times.
 *
 * A kill with neither `for` nor `restartAfter` stays until the schedule ends: at `until` (default: the end of the
 * load, `start + durationMs`), or when `signal` aborts. A rolling restart ends by itself (`healFrom: 'ended'`): its
 * heal is recorded once the last broker is back and the cluster in sync; if it could not go on, the reason is in
 * `errors` (phase `apply`) and the heal (every broker started) is still recorded.
 * Abort heals everything applied so far, skips what was not yet applied, and then resolves. A failed apply or heal
 * is reported in the result (and not recorded as happened); the other faults go on.
 *
 * `at: "random"` is drawn from `seed` (sfc32, never a global random source) uniformly so the fault fits in `durationMs`: the same
 * seed and scenario replay the same times.
 */
import { setTimeout as timersSleep } from 'node:timers/promises';
import { Sfc32 } from '../../generators/prng.ts';
import type { FaultRecord } from '../history/record.ts';
import { parseDuration } from '../util/duration.ts';
import { messageOf, StreamproofError } from '../util/errors.ts';
import { type ActiveFault, applyFault } from './apply.ts';
import { type ResolvedRole, resolvedText } from './apply-roles.ts';
import type { FaultContext } from './context.ts';
import type { FaultSpec } from './spec.ts';

export interface PlannedFault {
  /** `name` when the spec has one, else `faults[i]`: pairs the start and heal records. */
  readonly faultId: string;
  readonly spec: FaultSpec;
  /** Start, in ms from the start of the load (drawn from the seed for `at: "random"`). */
  readonly atMs: number;
  /** How long it lasts, ms; `undefined`: until the schedule ends (a kill without `for` / `restartAfter`). */
  readonly forMs: number | undefined;
  /**
   * `schedule`: healed at `start + atMs + forMs`; `applied`: `forMs` after it really took effect; `ended`: when it
   * ends by itself (a rolling restart; `forMs` is then 0).
   */
  readonly healFrom: 'schedule' | 'applied' | 'ended';
}

/** A history `fault` record with the spec and the resolved targets beside it (extra fields, same shape). */
export interface FaultEventRecord extends FaultRecord {
  readonly spec: FaultSpec;
  /** Proxy names (`broker-1`) or process names (`broker:2`, `sut:0`). */
  readonly targets: readonly string[];
  /**
   * A role target (`leader:events/0`, `controller`, ...): the role and the broker that held it when the fault started
   * (`target` then reads `leader:events/0 → broker:2`).
   */
  readonly resolved?: ResolvedRole;
}

export interface ScheduleError {
  readonly faultId: string;
  readonly phase: 'apply' | 'heal' | 'record';
  readonly message: string;
}

export interface ScheduleOptions {
  /** Epoch ms of the start of the load; `at` counts from here. */
  start: number;
  record(r: FaultEventRecord): void;
  /** Abort: heal what is applied, apply nothing more, resolve. */
  signal?: AbortSignal;
  /**
   * Epoch ms at which faults without a heal time of their own are healed; default `start + durationMs`, else when
   * `signal` aborts.
   */
  until?: number;
  /** For `at: "random"`. */
  seed?: number;
  /**
   * The load's duration, ms: `at: "random"` draws within it, and `until` defaults to `start + durationMs` (a kill
   * without a restart time stays down until the load ends).
   */
  durationMs?: number;
  now?: () => number;
  /** Resolves after `ms`, or early (never rejecting) when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface ScheduleResult {
  readonly plan: readonly PlannedFault[];
  readonly applied: number;
  readonly healed: number;
  /** Faults applied whose heal failed: still (partly) in effect until `healAll`. */
  readonly unhealed: readonly string[];
  readonly errors: readonly ScheduleError[];
  readonly aborted: boolean;
}

/** Ms times of every fault; pure. Throws StreamproofError `FAULT_SCHEDULE` for `at: "random"` without seed and durationMs. */
export function planFaults(
  faults: readonly FaultSpec[],
  opts: { seed?: number; durationMs?: number } = {},
): PlannedFault[] {
  let prng: Sfc32 | undefined;
  return faults.map((spec, i) => {
    const faultId = spec.name ?? `faults[${i}]`;
    const path = `faults[${i}]`;
    // A schema upgrade ends by itself at once (healFrom 'ended').
    const raw =
      spec.kind === 'kill'
        ? (spec.restartAfter ?? spec.for)
        : spec.kind === 'rolling-restart' || spec.kind === 'schema-upgrade' || spec.kind === 'fence'
          ? 0
          : spec.for;
    const forMs = raw === undefined ? (spec.kind === 'restart' ? 0 : undefined) : parseDuration(raw, `${path}.for`);
    let atMs: number;
    if (spec.at === 'random') {
      if (opts.seed === undefined || opts.durationMs === undefined) {
        throw StreamproofError.at('FAULT_SCHEDULE', `at: "random" needs the run's seed and the load duration`, {
          faultId,
        });
      }
      prng ??= new Sfc32(opts.seed);
      const span = Math.max(0, opts.durationMs - (forMs ?? 0));
      atMs = Math.floor((prng.u32() / 4294967296) * span);
    } else {
      atMs = parseDuration(spec.at, `${path}.at`);
    }
    const healFrom =
      spec.kind === 'rolling-restart' || spec.kind === 'schema-upgrade' || spec.kind === 'fence'
        ? 'ended'
        : spec.kind === 'kill' || spec.kind === 'restart' || spec.kind === 'rebalance'
          ? 'applied'
          : 'schedule';
    return { faultId, spec, atMs, forMs, healFrom };
  });
}

/** Runs the schedule to its end (every fault applied and healed) or to the abort; see the module comment. */
export async function runSchedule(
  faults: readonly FaultSpec[],
  ctx: FaultContext,
  opts: ScheduleOptions,
): Promise<ScheduleResult> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? defaultSleep;
  const { signal } = opts;
  const plan = planFaults(faults, opts);
  const until = opts.until ?? (opts.durationMs === undefined ? undefined : opts.start + opts.durationMs);
  const open = plan.find((p) => p.forMs === undefined);
  if (open && until === undefined && !signal) {
    throw StreamproofError.at(
      'FAULT_SCHEDULE',
      'a kill without "for" or "restartAfter" needs `until`, `durationMs` or `signal`',
      {
        faultId: open.faultId,
      },
    );
  }
  const aborted = () => signal?.aborted ?? false;
  // Without a signal this never settles: only `until` ends an open fault then (checked above).
  const abortedP = new Promise<void>((resolve) => {
    if (signal?.aborted) resolve();
    else signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  const sleepUntil = async (t: number) => {
    const d = t - now();
    if (d > 0 && !aborted()) await sleep(d, signal);
  };

  const errors: ScheduleError[] = [];
  const unhealed: string[] = [];
  let applied = 0;
  let healed = 0;
  const record = (p: PlannedFault, fault: ActiveFault, phase: 'start' | 'heal') => {
    try {
      opts.record({
        kind: 'fault',
        time: now(),
        phase,
        faultId: p.faultId,
        fault: p.spec.kind,
        target: fault.resolved ? resolvedText(p.spec.target ?? '', fault.resolved) : p.spec.target,
        spec: p.spec,
        targets: fault.targets,
        ...(fault.resolved ? { resolved: fault.resolved } : {}),
        ...(fault.detail === undefined ? {} : { detail: fault.detail }),
      });
    } catch (err) {
      errors.push({ faultId: p.faultId, phase: 'record', message: messageOf(err) });
    }
  };

  await Promise.all(
    plan.map(async (p) => {
      await sleepUntil(opts.start + p.atMs);
      if (aborted()) return;
      let fault: ActiveFault;
      try {
        fault = await applyFault(p.spec, ctx, { faultId: p.faultId, sleep, now });
      } catch (err) {
        errors.push({ faultId: p.faultId, phase: 'apply', message: messageOf(err) });
        return;
      }
      const appliedAt = now();
      applied++;
      record(p, fault, 'start');
      if (fault.ended) {
        const failure = await Promise.race([
          fault.ended.then(
            () => undefined,
            (err: unknown) => err ?? 'failed',
          ),
          abortedP,
        ]);
        if (failure !== undefined) errors.push({ faultId: p.faultId, phase: 'apply', message: messageOf(failure) });
      } else if (!aborted()) {
        if (p.forMs === undefined) {
          await (until === undefined ? abortedP : Promise.race([abortedP, sleepUntil(until)]));
        } else {
          await sleepUntil((p.healFrom === 'applied' ? appliedAt : opts.start + p.atMs) + p.forMs);
        }
      }
      try {
        await fault.heal();
      } catch (err) {
        unhealed.push(p.faultId);
        errors.push({ faultId: p.faultId, phase: 'heal', message: messageOf(err) });
        return;
      }
      healed++;
      record(p, fault, 'heal');
    }),
  );
  return { plan, applied, healed, unhealed, errors, aborted: aborted() };
}

async function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await timersSleep(ms, undefined, { signal });
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  }
}
