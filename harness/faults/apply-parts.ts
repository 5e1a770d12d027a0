/**
 * The parts a fault is applied as, and the holds they share. Each part (one toxic on one proxy direction, one disabled
 * proxy, one killed process) knows its own undo; `undoAll` runs every undo not yet done, even when one fails.
 *
 * Overlapping faults that hold the same thing (two partitions of one proxy, two pauses of one process, a kill and a
 * restart of one process) are counted per context: the thing comes back when the last of them heals.
 */
import { messageOf, StreamproofError } from '../util/errors.ts';
import type { ActiveFault } from './apply.ts';
import type { FaultContext } from './context.ts';
import type { FaultSpec } from './spec.ts';

export interface Part {
  readonly label: string;
  readonly undo: () => Promise<void>;
  done: boolean;
}

export function part(label: string, undo: () => Promise<void>): Part {
  return { label, undo, done: false };
}

/** A part whose undo only acts when it is the last holder of `key`. */
export function heldPart(ctx: FaultContext, label: string, key: string, undo: () => Promise<void>): Part {
  let last: boolean | undefined;
  return part(label, async () => {
    last ??= release(ctx, key);
    if (last) await undo();
  });
}

export async function undoAll(parts: Part[]): Promise<unknown[]> {
  const settled = await Promise.allSettled(
    parts
      .filter((p) => !p.done)
      .map(async (p) => {
        try {
          await p.undo();
          p.done = true;
        } catch (err) {
          throw new Error(`${p.label}: ${messageOf(err)}`);
        }
      }),
  );
  return settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
}

const holds = new WeakMap<FaultContext, Map<string, number>>();

export function holdsOf(ctx: FaultContext): Map<string, number> {
  let m = holds.get(ctx);
  if (!m) {
    m = new Map();
    holds.set(ctx, m);
  }
  return m;
}

export function hold(ctx: FaultContext, key: string): void {
  const m = holdsOf(ctx);
  m.set(key, (m.get(key) ?? 0) + 1);
}

/** Drops one hold; true when it was the last (or healAll already cleared it). */
export function release(ctx: FaultContext, key: string): boolean {
  const m = holdsOf(ctx);
  const n = (m.get(key) ?? 1) - 1;
  if (n <= 0) m.delete(key);
  else m.set(key, n);
  return n <= 0;
}

/**
 * The fault in effect once its parts are applied: healed when every part is undone; `heal()` undoes the parts not
 * yet undone (concurrent calls share one attempt) and throws FAULT_HEAL_FAILED naming those that failed.
 */
export function partsFault(
  spec: FaultSpec,
  faultId: string,
  parts: Part[],
  fields: Pick<ActiveFault, 'targets' | 'toxics' | 'resolved'>,
): ActiveFault {
  let healing: Promise<void> | undefined;
  const fault: ActiveFault = {
    spec,
    ...fields,
    get healed() {
      return parts.every((p) => p.done);
    },
    heal() {
      if (fault.healed) return Promise.resolve();
      healing ??= (async () => {
        try {
          const errors = await undoAll(parts);
          if (errors.length > 0) {
            throw StreamproofError.at(
              'FAULT_HEAL_FAILED',
              `healing ${spec.kind} on ${spec.target} failed: ${errors.map(messageOf).join('; ')}`,
              { faultId, cause: errors[0] },
            );
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
