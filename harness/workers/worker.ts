/**
 * A load worker: joins a run through its control topic, offers its slice of the run's load, reports its History and
 * summary back through the same topic. All it needs is the bootstrap address and the run id, so it may run on any
 * machine that reaches the brokers.
 *
 *   plan -> [join: claim an index] -> ready -> start (startAt) -> offer slice p % W === index -> chunks + done
 *
 * A `stop` record stops offering (drain, report as usual); an `abort` record, SIGTERM or the signal stop offering
 * and report what was done (a coordinator that aborted ignores it).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { History } from '../history/index.ts';
import { type LoadSummary, startLoad } from '../load/index.ts';
import { sliceLanes } from '../load/load.ts';
import { StreamproofError } from '../util/errors.ts';
import { type Progress, silent } from '../util/progress.ts';
import { ControlChannel } from './control.ts';
import { WORKER_RESULT_FORMAT, type WorkerResult } from './merge.ts';
import {
  type AbortRecord,
  type ChunkRecord,
  type ControlRecord,
  chunkResult,
  type JoinRecord,
  type PlanRecord,
  planStages,
  type StartRecord,
} from './protocol.ts';

export interface WorkerOptions {
  /** A broker address that reaches the run's topics (host:port). */
  bootstrap: string;
  runId: string;
  /** Take this index instead of claiming the next free one. */
  index?: number;
  /** How long to wait for the control topic and the plan, ms. Default 60 000. */
  waitMs?: number;
  progress?: Progress;
  signal?: AbortSignal;
}

export interface WorkerOutcome {
  index: number;
  workerId: string;
  summary: LoadSummary | null;
  /** True when the coordinator aborted the run (nothing was reported). */
  aborted: boolean;
}

const isPlan = (r: ControlRecord): r is PlanRecord => r.type === 'plan';
const isAbort = (r: ControlRecord): r is AbortRecord => r.type === 'abort';

export async function runWorker(o: WorkerOptions): Promise<WorkerOutcome> {
  const progress = o.progress ?? silent;
  const workerId = randomUUID();
  const host = hostname();
  const waitMs = o.waitMs ?? 60_000;
  progress({ phase: 'worker', message: `joining run ${o.runId} on ${o.bootstrap}` });
  const ch = await ControlChannel.open(o.bootstrap, o.runId, { waitMs, clientId: `streamproof-worker-${workerId}` });
  try {
    const plan = await ch.waitFor(isPlan, waitMs, `run ${o.runId}: the plan`, o.signal);
    let index = o.index;
    if (index === undefined) {
      await ch.send({ type: 'join', workerId, host, pid: process.pid });
      const mine = (r: ControlRecord): r is JoinRecord => r.type === 'join' && r.workerId === workerId;
      await ch.waitFor(mine, waitMs, 'our own join record', o.signal);
      index = claimedIndex(ch.log, workerId);
    }
    if (index >= plan.workers) {
      throw new StreamproofError(
        'USAGE',
        `run ${o.runId} has ${plan.workers} worker(s) (indices 0..${plan.workers - 1}); this one would be index ${index}`,
      );
    }
    const lanes = sliceLanes(
      Math.min(plan.load.producers, plan.partitions),
      plan.partitions,
      plan.workers > 1 ? { index, count: plan.workers } : undefined,
    );
    await ch.send({ type: 'ready', workerId, index, host, pid: process.pid, lanes });
    progress({
      phase: 'worker',
      message: `worker ${index} of ${plan.workers}: partitions p % ${plan.workers} === ${index}, lanes ${lanes.join(',')}; waiting for start`,
      index,
    });
    const startOrAbort = (r: ControlRecord): r is StartRecord | AbortRecord => r.type === 'start' || r.type === 'abort';
    const go = await ch.waitFor(startOrAbort, plan.workerTimeoutMs + waitMs, 'the start record', o.signal);
    if (go.type === 'abort') {
      progress({ phase: 'worker', message: `run aborted before the start: ${go.reason}` });
      return { index, workerId, summary: null, aborted: true };
    }
    const history = new History();
    let summary: LoadSummary | null = null;
    let error: string | undefined;
    let aborted = false;
    try {
      const load = startLoad({
        bootstrap: o.bootstrap,
        topic: plan.topic,
        history,
        stages: planStages(plan),
        producers: plan.load.producers,
        acksTimeoutMs: plan.load.acksTimeoutMs,
        ...(plan.load.client ? { client: plan.load.client } : {}),
        ...(plan.load.maxInFlightRequests ? { maxInFlightRequests: plan.load.maxInFlightRequests } : {}),
        generator: plan.generator,
        ...(plan.workers > 1 ? { slice: { index, count: plan.workers } } : {}),
        startAt: go.startAt,
        clientId: `streamproof-load-w${index}`,
        progress,
        ...(o.signal ? { signal: o.signal } : {}),
      });
      const off = ch.onRecord((r) => {
        if (r.type === 'stop' || r.type === 'abort') {
          aborted ||= r.type === 'abort';
          void load.stop().catch(() => {});
        }
      });
      // A stop/abort that arrived between `start` and onRecord.
      if (ch.log.some((r) => r.type === 'stop' || isAbort(r))) void load.stop().catch(() => {});
      try {
        summary = await load.done;
      } finally {
        off();
      }
    } catch (e) {
      error = (e as Error).message;
    }
    aborted ||= ch.log.some(isAbort);
    if (aborted) return { index, workerId, summary, aborted: true };
    const result: WorkerResult = {
      format: WORKER_RESULT_FORMAT,
      index,
      workerId,
      host,
      pid: process.pid,
      lanes,
      summary,
      history: history.toJSON(),
      ...(error === undefined ? {} : { error }),
    };
    const { chunks, done } = chunkResult(workerId, index, result, undefined, error);
    progress({
      phase: 'worker',
      message: `reporting: ${chunks.length} chunk(s), ${done.bytes} bytes${error ? `; load failed: ${error}` : ''}`,
    });
    for (const c of chunks) await ch.send(c as ChunkRecord);
    await ch.send(done);
    if (error !== undefined) throw new StreamproofError('INTERNAL', `worker ${index}: ${error}`);
    return { index, workerId, summary, aborted: false };
  } finally {
    await ch.close();
  }
}

/**
 * The index a `join` claims: the number of distinct workers whose first join comes before this worker's first
 * join in the topic (one partition: every reader sees the same order, so every worker agrees).
 */
export function claimedIndex(log: readonly ControlRecord[], workerId: string): number {
  const seen = new Set<string>();
  for (const r of log) {
    if (r.type !== 'join') continue;
    if (r.workerId === workerId) return seen.size;
    seen.add(r.workerId);
  }
  throw new Error(`no join record of worker ${workerId}`);
}
