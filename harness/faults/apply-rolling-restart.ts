/**
 * The rolling restart: applied once its first broker is down, and then goes on by itself (`ended` settles when the
 * last broker is back and the cluster in sync); its heal cuts it short (the broker being restarted is started, no
 * further one is stopped) and starts any broker it left stopped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDuration } from '../util/duration.ts';
import { messageOf, StreamproofError } from '../util/errors.ts';
import type { ActiveFault } from './apply.ts';
import { hold, release } from './apply-parts.ts';
import type { FaultContext, ProcessTarget } from './context.ts';
import type { RollingRestartFault } from './spec.ts';

/** See the module comment and RollingRestartFault. */
export async function rollingRestart(
  spec: RollingRestartFault,
  ctx: FaultContext,
  faultId: string,
  wait: (ms: number, signal?: AbortSignal) => Promise<void>,
  now: () => number,
): Promise<ActiveFault> {
  const forMs = spec.for === undefined ? 0 : parseDuration(spec.for, 'for');
  const syncTimeoutMs = spec.syncTimeout === undefined ? 120_000 : parseDuration(spec.syncTimeout, 'syncTimeout');
  const pollMs = ctx.syncPollMs ?? 500;
  const brokers = ctx.brokerIds.flatMap((id) => ctx.processes({ type: 'process', role: 'broker', id }));
  const cancel = new AbortController();
  // Stopped by the roll and not started again (a start that failed): the heal starts them.
  const leftDown = new Set<ProcessTarget>();
  let tookEffect!: () => void;
  const firstDown = new Promise<void>((resolve) => {
    tookEffect = resolve;
  });

  const waitInSync = async (when: string) => {
    const deadline = now() + syncTimeoutMs;
    let last = 'not asked';
    for (;;) {
      if (cancel.signal.aborted) return;
      try {
        const under = await ctx.underReplicated();
        if (under.length === 0) return;
        const more = under.length > 5 ? ', ...' : '';
        last = `${under.length} partition(s) not in sync: ${under.slice(0, 5).join(', ')}${more}`;
      } catch (err) {
        last = `the replication state could not be read: ${messageOf(err)}`;
      }
      if (now() >= deadline) {
        throw new Error(
          `rolling restart stopped: the cluster was not in sync within ${syncTimeoutMs} ms ${when} (${last})`,
        );
      }
      await wait(pollMs, cancel.signal);
    }
  };

  const roll = (async () => {
    for (const p of brokers) {
      await waitInSync(`before stopping ${p.name}`);
      if (cancel.signal.aborted) return;
      const key = `down:${p.name}`;
      hold(ctx, key);
      leftDown.add(p);
      try {
        if (p.running()) await p.stop();
        tookEffect();
        if (forMs > 0) await wait(forMs, cancel.signal);
      } finally {
        // Started again even when cut short or when the stop failed, unless another fault still holds it down
        // (its own heal starts it). A start that throws leaves it in leftDown for the heal.
        if (release(ctx, key) && !p.running()) await p.start();
        leftDown.delete(p);
      }
    }
    await waitInSync('after the last broker');
  })();
  roll.catch(() => {});

  const failedFirst = await Promise.race([
    firstDown.then(() => undefined),
    roll.then(
      () => undefined,
      (e) => e,
    ),
  ]);
  if (failedFirst !== undefined) {
    throw StreamproofError.at(
      'FAULT_APPLY_FAILED',
      `rolling-restart of ${spec.target} failed: ${messageOf(failedFirst)}`,
      {
        faultId,
        cause: failedFirst,
      },
    );
  }
  let settled = false;
  const ended = roll.finally(() => {
    settled = true;
  });
  ended.catch(() => {});
  let healing: Promise<void> | undefined;
  const fault: ActiveFault = {
    spec,
    targets: brokers.map((b) => b.name),
    toxics: [],
    ended,
    get healed() {
      return settled && leftDown.size === 0;
    },
    heal() {
      healing ??= (async () => {
        try {
          cancel.abort();
          await roll.catch(() => undefined);
          const errors: string[] = [];
          for (const p of [...leftDown]) {
            try {
              if (!p.running()) await p.start();
              leftDown.delete(p);
            } catch (err) {
              errors.push(`${p.name}: ${messageOf(err)}`);
            }
          }
          if (errors.length > 0) {
            throw StreamproofError.at('FAULT_HEAL_FAILED', `healing rolling-restart failed: ${errors.join('; ')}`, {
              faultId,
            });
          }
        } finally {
          healing = undefined;
        }
      })();
      return healing;
    },
  };
  return fault;
}

export async function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  }
}
