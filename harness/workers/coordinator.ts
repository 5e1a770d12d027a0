/**
 * The coordinator of load workers: the `streamproof run` process when `load.workers` > 1. It creates the run's
 * control topic, writes the plan, optionally starts local worker processes (`streamproof worker`), waits until
 * every index 0..W-1 is `ready`, writes `start` (a whole-ms instant `startLeadMs` ahead, so every worker's first
 * intended send is the same instant), then collects every worker's result and merges them into the run's History.
 *
 * It looks like `startLoad` to the runner (`ready`, `done`, `stop`). Honest verdicts: a worker that never becomes
 * ready, never reports, reports an error, or a local worker process that dies, rejects `done` with a
 * StreamproofError, so the run's verdict is `unknown` (exit 3), never a pass over a partial history.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { History } from '../history/index.ts';
import { securityEnvFor } from '../kafka/security.ts';
import type { LoadStart } from '../load/index.ts';
import { launch, type ManagedProcess } from '../stack/process.ts';
import { StreamproofError } from '../util/errors.ts';
import { type Progress, silent } from '../util/progress.ts';
import { ControlChannel, deleteControlTopic } from './control.ts';
import { checkWorkerResult, type MergedLoadSummary, mergeWorkerResults, type WorkerResult } from './merge.ts';
import {
  assembleResult,
  type ChunkRecord,
  type ControlRecord,
  type DoneRecord,
  type PlanGenerator,
  type PlanLoad,
  type ReadyRecord,
} from './protocol.ts';

export interface CoordinateOptions {
  /** Where the coordinator and the local workers connect. */
  bootstrap: string;
  runId: string;
  topic: string;
  partitions: number;
  workers: number;
  load: PlanLoad;
  generator: PlanGenerator;
  /** The run's History: every worker's History is merged into it when all have reported. */
  history: History;
  /** Local worker processes to start (the rest join from elsewhere). Default `workers`. */
  spawn?: number;
  /** How long to wait for every worker to be ready, and for results after the schedule and drain. Default 60 s. */
  workerTimeoutMs?: number;
  /** How far ahead of `start` the first intended send is. Default 2000 ms. */
  startLeadMs?: number;
  /** Replication factor of the control topic. Default 1. */
  replicas?: number;
  /** Where local workers' logs go. */
  logDir: string;
  progress?: Progress;
}

export interface CoordinatedLoad extends AsyncDisposable {
  readonly ready: Promise<LoadStart>;
  readonly done: Promise<MergedLoadSummary>;
  /** Tells every worker to stop offering now and report; resolves like `done`. */
  stop(): Promise<MergedLoadSummary>;
}

const cli = new URL('../../bin/streamproof.js', import.meta.url).pathname;

export function coordinateLoad(o: CoordinateOptions): CoordinatedLoad {
  if (!Number.isInteger(o.workers) || o.workers < 1 || o.workers > o.partitions) {
    throw new StreamproofError(
      'INVALID_SCENARIO',
      `load.workers: expected an integer in [1, ${o.partitions}] (one partition at least per worker), got ${o.workers}`,
      { path: 'load.workers' },
    );
  }
  const spawn = o.spawn ?? o.workers;
  if (!Number.isInteger(spawn) || spawn < 0 || spawn > o.workers) {
    throw new StreamproofError('USAGE', `--spawn-workers: expected an integer in [0, ${o.workers}], got ${spawn}`);
  }
  const progress = o.progress ?? silent;
  const timeoutMs = o.workerTimeoutMs ?? 60_000;
  let ch: ControlChannel | undefined;
  const procs: ManagedProcess[] = [];
  let stopRequested = false;
  let started = false;
  let resolveReady!: (s: LoadStart) => void;
  let rejectReady!: (e: unknown) => void;
  const ready = new Promise<LoadStart>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  ready.catch(() => {});

  async function run(): Promise<MergedLoadSummary> {
    mkdirSync(o.logDir, { recursive: true });
    const c = await ControlChannel.open(o.bootstrap, o.runId, {
      create: { replicas: o.replicas ?? 1 },
      keepChunks: true,
      clientId: 'streamproof-coordinator',
    });
    ch = c;
    await c.send({
      type: 'plan',
      workers: o.workers,
      topic: o.topic,
      partitions: o.partitions,
      load: o.load,
      generator: o.generator,
      workerTimeoutMs: timeoutMs,
    });
    progress({
      phase: 'workers',
      message: `control topic ${c.topic}: waiting for ${o.workers} worker(s)${spawn < o.workers ? `; start the other ${o.workers - spawn} with: streamproof worker --bootstrap ${o.bootstrap} --run-id ${o.runId}` : ''}`,
      runId: o.runId,
      controlTopic: c.topic,
    });
    // A local worker that dies before it reported fails the run now rather than at the timeout.
    let died: ((e: Error) => void) | undefined;
    const death = new Promise<never>((_, reject) => {
      died = reject;
    });
    death.catch(() => {});
    for (let k = 0; k < spawn; k++) {
      const p = await launch({
        name: `worker-${k}`,
        command: process.execPath,
        args: [cli, 'worker', '--bootstrap', o.bootstrap, '--run-id', o.runId, '--json'],
        // A secured cluster's settings go by the environment (never on the command line).
        env: { ...process.env, ...securityEnvFor(o.bootstrap) },
        logFile: join(o.logDir, `worker-${k}.log`),
      });
      procs.push(p);
      void p.exited.then((e) => {
        if (e.code !== 0) {
          died?.(
            new StreamproofError(
              'INTERNAL',
              `local worker process ${k} (pid ${p.pid}) exited with ${e.signal ?? `code ${e.code}`} before the run ended; see ${p.logFile}:\n${p.logTail(8)}`,
            ),
          );
        }
      });
    }

    // Every index ready, exactly once.
    const readyBy = new Map<number, ReadyRecord>();
    const allReady = new Promise<void>((resolve, reject) => {
      const take = (r: ControlRecord) => {
        if (r.type !== 'ready') return;
        const prev = readyBy.get(r.index);
        if (r.index >= o.workers) return reject(protocolError(`a worker took index ${r.index} of ${o.workers}`));
        if (prev && prev.workerId !== r.workerId) {
          return reject(
            protocolError(`two workers took index ${r.index} (${prev.host}:${prev.pid} and ${r.host}:${r.pid})`),
          );
        }
        readyBy.set(r.index, r);
        if (readyBy.size === o.workers) resolve();
      };
      c.onRecord(take);
      for (const r of c.log) take(r);
    });
    await withDeadline(Promise.race([allReady, death]), timeoutMs, () =>
      missing(`became ready within ${timeoutMs} ms`, o.workers, readyBy),
    );
    const startAt = Math.ceil(Date.now() + (o.startLeadMs ?? 2000));
    await c.send({ type: 'start', startAt });
    started = true;
    if (stopRequested) await c.send({ type: 'stop' });
    const durationMs = o.load.stages.reduce((a, s) => a + s.duration, 0);
    const producers = new Set([...readyBy.values()].flatMap((r) => r.lanes)).size;
    resolveReady({ startTime: startAt, partitions: o.partitions, producers });
    progress({
      phase: 'workers',
      message: `all ${o.workers} worker(s) ready; the load starts at ${new Date(startAt).toISOString()}`,
    });

    // Results: due after the schedule, the workers' drain (acksTimeout + 5 s) and the timeout.
    const doneBy = new Map<number, DoneRecord>();
    const allDone = new Promise<void>((resolve) => {
      const take = (r: ControlRecord) => {
        if (r.type !== 'done' || r.index >= o.workers || readyBy.get(r.index)?.workerId !== r.workerId) return;
        doneBy.set(r.index, r);
        if (doneBy.size === o.workers) resolve();
      };
      c.onRecord(take);
      for (const r of c.log) take(r);
    });
    const dueIn = startAt + durationMs + o.load.acksTimeoutMs + 5000 + timeoutMs - Date.now();
    await withDeadline(Promise.race([allDone, death]), dueIn, () =>
      missing(`reported a result within ${timeoutMs} ms after the schedule and drain`, o.workers, doneBy),
    );
    const chunks = c.log.filter((r): r is ChunkRecord => r.type === 'chunk');
    const results: WorkerResult[] = [];
    for (const [index, d] of [...doneBy].sort((a, b) => a[0] - b[0])) {
      const r = checkWorkerResult(assembleResult(chunks, d), index);
      if (d.error !== undefined || r.summary === null) {
        throw new StreamproofError('INTERNAL', `worker ${index} (${r.host}:${r.pid}) failed: ${d.error ?? r.error}`);
      }
      results.push(r);
    }
    const summary = mergeWorkerResults(results, o.history);
    progress({
      phase: 'workers',
      message: `merged ${results.length} worker result(s): offered ${summary.offered}, acked ${summary.acked}, failed ${summary.failed}, unknown ${summary.unknown}`,
    });
    return summary;
  }

  const done = run()
    .catch(async (e: unknown) => {
      rejectReady(e);
      await ch?.send({ type: 'abort', reason: (e as Error).message.slice(0, 500) }).catch(() => {});
      throw e;
    })
    .finally(async () => {
      // Local workers exit by themselves once they reported (or saw the abort); stop whatever is left.
      await Promise.all(procs.map((p) => p.stop(5000).catch(() => undefined)));
      await ch?.close();
      await deleteControlTopic(o.bootstrap, o.runId);
    });
  done.catch(() => {});

  async function stop(): Promise<MergedLoadSummary> {
    stopRequested = true;
    if (started) await ch?.send({ type: 'stop' }).catch(() => {});
    return done;
  }
  return {
    ready,
    done,
    stop,
    async [Symbol.asyncDispose]() {
      await stop().catch(() => {});
    },
  };
}

function protocolError(message: string): StreamproofError {
  return new StreamproofError('INTERNAL', `workers: ${message}; verdict unknown`);
}

function missing(what: string, workers: number, have: Map<number, unknown>): StreamproofError {
  const absent = [...Array(workers).keys()].filter((i) => !have.has(i));
  return new StreamproofError(
    'TIMEOUT',
    `worker(s) ${absent.join(', ')} of ${workers} never ${what}; the merged result would be partial, so the verdict is unknown`,
    { missingWorkers: absent },
  );
}

async function withDeadline<T>(p: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(error()), Math.max(0, ms));
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
