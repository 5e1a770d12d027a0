/**
 * The drain: after the load, wait until the pipeline has consumed everything and its output has gone quiet, or until
 * the deadline. A drain that ends early must never turn late into lost, so it waits for evidence, not for time:
 *
 * - `committed-offsets`: the SUT's consumer group (STREAMPROOF_GROUP_ID) has committed offsets. The drain is complete
 *   once every input partition is committed at its end and the output has been quiet for `quietMs`. A pipeline that
 *   is still recovering (a restarted Java consumer waits out the dead member's 45 s session) keeps the drain waiting.
 *   A pipeline known to consume through that group (readiness saw the group own the input, or the drain sees it
 *   with members) is judged by its commits even before its first one: Kafka Streams at-least-once commits every
 *   30 s, so a kill can land before any commit, and the restarted instance waits out the dead member's session.
 * - `quiet-output`: the group never committed and was never seen consuming (the pipeline keeps its offsets
 *   elsewhere, or not at all). Quiet output is then the only evidence, and the result says so.
 * - Under the copy contract, the drain is also complete when nothing acked is missing from the output and the output
 *   is quiet (a pipeline that never commits its last offset is not waited for in vain).
 *
 * At the deadline the drain is incomplete. Missing events are then split by `consumedPast`: those whose input record
 * the pipeline committed past are lost, the others unseen (verdict unknown, with the lag and the setting to raise).
 */
import type { Bootstrap } from '../kafka/clients.ts';
import { describeGroup } from '../kafka/groups.ts';
import type { Progress } from '../util/progress.ts';
import { type GroupProgress, groupProgress, ResilientAdmin } from './offsets.ts';

export type DrainEvidence = 'committed-offsets' | 'quiet-output' | 'all-seen';

/** What the drain did, for the result and the reports. */
export interface DrainReport {
  readonly complete: boolean;
  readonly waitedMs: number;
  /** What ended it (or would have, for an incomplete drain). */
  readonly evidence: DrainEvidence;
  /** In words: what it waited for. */
  readonly waitedFor: string;
  readonly quietMs: number;
  readonly timeoutMs: number;
  /** The SUT group's input lag when the drain ended; null when the group never committed. */
  readonly lagAtEnd: number | null;
  /** Committed offset per input partition when the drain ended (absent when the group never committed). */
  readonly committed?: Readonly<Record<string, number>>;
  /** End offset per input partition when the drain ended. */
  readonly end?: Readonly<Record<string, number>>;
  /** Offset reads that failed (the drain keeps going on the last good one). */
  readonly offsetErrors: number;
}

export interface DrainOptions {
  bootstrap: Bootstrap;
  group: string;
  topic: string;
  partitions: number;
  observer: { readonly lastRecordAt: number };
  quietMs: number;
  timeoutMs: number;
  /** Copy contract: true when every acked event has been seen. */
  nothingMissing?: () => boolean;
  /** The pipeline is known to consume through `group` (readiness saw the group own the input). */
  groupConsumer?: boolean;
  progress: Progress;
  /** How often offsets are read; default 500 ms. */
  intervalMs?: number;
}

export async function drainPipeline(o: DrainOptions): Promise<DrainReport> {
  const admin = new ResilientAdmin(o.bootstrap, 'streamproof-drain');
  const start = Date.now();
  const deadline = start + o.timeoutMs;
  let last: GroupProgress | undefined;
  let errors = 0;
  let lastProgressAt = start;
  let groupConsumer = o.groupConsumer ?? false;
  let lastDescribe = 0;
  let caughtUpSince: number | undefined;
  try {
    for (;;) {
      try {
        last = await admin.use((a) => groupProgress(a, o.group, o.topic, o.partitions));
      } catch {
        errors++;
      }
      if (!groupConsumer && (last?.committed.size ?? 0) === 0 && Date.now() - lastDescribe >= 2000) {
        lastDescribe = Date.now();
        const g = await describeGroup(o.bootstrap, o.group).catch(() => undefined);
        groupConsumer = (g?.members.length ?? 0) > 0;
      }
      const now = Date.now();
      const commits = (last?.committed.size ?? 0) > 0 || groupConsumer;
      const quietFor = now - Math.max(o.observer.lastRecordAt, start);
      const evidence: DrainEvidence = commits ? 'committed-offsets' : 'quiet-output';
      const caughtUp = commits ? (last?.caughtUp ?? false) && (last?.committed.size ?? 0) > 0 : true;
      // Quiet counts from the moment the group caught up too: a transaction's offsets can become visible before
      // the markers on its output partitions are written, so its output gets the whole quiet period to show.
      if (!caughtUp) caughtUpSince = undefined;
      else caughtUpSince ??= now;
      const quiet = now - Math.max(o.observer.lastRecordAt, start, caughtUpSince ?? 0) >= o.quietMs;
      if (quiet && (caughtUp || o.nothingMissing?.())) {
        return report(o, start, true, caughtUp ? evidence : 'all-seen', last, errors, groupConsumer);
      }
      if (now >= deadline) return report(o, start, false, evidence, last, errors, groupConsumer);
      if (now - lastProgressAt >= 5000) {
        lastProgressAt = now;
        o.progress({
          phase: 'drain',
          message: commits
            ? `draining: ${o.group} still has ${last?.lag ?? '?'} input record(s) to commit; output quiet for ${(quietFor / 1000).toFixed(0)} s (${((deadline - now) / 1000).toFixed(0)} s left)`
            : `draining: output quiet for ${(quietFor / 1000).toFixed(0)} s of ${o.quietMs / 1000} s (the group commits no offsets)`,
        });
      }
      await new Promise((r) => setTimeout(r, Math.min(o.intervalMs ?? 500, Math.max(1, deadline - now))));
    }
  } finally {
    await admin.close();
  }
}

function report(
  o: DrainOptions,
  start: number,
  complete: boolean,
  evidence: DrainEvidence,
  last: GroupProgress | undefined,
  offsetErrors: number,
  groupConsumer: boolean,
): DrainReport {
  const commits = (last?.committed.size ?? 0) > 0 || groupConsumer;
  const quiet = `${o.quietMs / 1000} s of quiet output`;
  const waitedFor =
    evidence === 'committed-offsets'
      ? `consumer group ${o.group} committed at the end of every partition of ${o.topic}, then ${quiet}`
      : evidence === 'all-seen'
        ? `every acked event in the output, then ${quiet}`
        : `${quiet} only: consumer group ${o.group} committed no offsets, so whether the pipeline had consumed everything could not be checked`;
  const obj = (m: ReadonlyMap<number, bigint>) =>
    Object.fromEntries([...m].sort((x, y) => x[0] - y[0]).map(([p, v]) => [String(p), Number(v)]));
  return {
    complete,
    waitedMs: Date.now() - start,
    evidence,
    waitedFor,
    quietMs: o.quietMs,
    timeoutMs: o.timeoutMs,
    lagAtEnd: commits ? (last?.lag ?? null) : null,
    ...(commits && last ? { committed: obj(last.committed) } : {}),
    ...(last ? { end: obj(last.end) } : {}),
    offsetErrors,
  };
}
