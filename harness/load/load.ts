/**
 * startLoad: the open-model Kafka load of a run. Validates the options, connects the producers (metadata, producer
 * ids) before the schedule starts, then runs the LoadDriver (driver.ts has the model) and closes the producers.
 *
 *   const load = startLoad({ bootstrap, topic, history, generator: { seed: 7 }, rate: 2000, duration: '5s' });
 *   const summary = await load.done;          // or: await load.stop()
 */
import { createBulkGenerator } from '../../generators/bulk.ts';
import type { SchemaVersion } from '../../generators/event.ts';
import type { History } from '../history/index.ts';
import { admin, clusterBootstrap } from '../kafka/clients.ts';
import { StreamproofError } from '../util/errors.ts';
import { type Progress, silent } from '../util/progress.ts';
import { systemClock } from './clock.ts';
import { LoadDriver, type LoadSummary } from './driver.ts';
import { FastLaneSender } from './fast-sender.ts';
import { KafkaLaneSender } from './kafka-sender.ts';
import { partitionForKey } from './murmur2.ts';
import { type LoadOptions, type ResolvedLoad, resolveLoadOptions } from './options.ts';

export interface LoadStart {
  /** Intended send time of the first event (ms epoch). */
  startTime: number;
  partitions: number;
  /** Producers used: min(producers, partitions). */
  producers: number;
}

export interface RunningLoad extends AsyncDisposable {
  /** Resolves when the producers are connected and the schedule has started; rejects like `done`. */
  readonly ready: Promise<LoadStart>;
  /** The summary once the schedule ended and every offered event has its outcome. Rejects with StreamproofError on setup. */
  readonly done: Promise<LoadSummary>;
  /** Stop offering now, drain what was offered (bounded by drainTimeoutMs), return the summary. */
  stop(): Promise<LoadSummary>;
  /**
   * A live schema upgrade: every event offered from now on is of `version`, framed with `schemaId` (driver.ts).
   * Throws StreamproofError `LOAD_INVALID_OPTION` before the schedule started or after it ended.
   */
  switchSchema(version: SchemaVersion, schemaId: number): void;
}

/** Validates synchronously (throws StreamproofError `LOAD_INVALID_OPTION`), then starts in the background. */
export function startLoad(options: LoadOptions): RunningLoad {
  const cfg = resolveLoadOptions(options);
  const clock = options.clock ?? systemClock;
  const progress = options.progress ?? silent;
  let driver: LoadDriver | undefined;
  let over = false;
  const handle = loadHandle<LoadSummary, LoadStart>(options.signal, (started) =>
    run(cfg, options.history, clock, progress, (d, s) => {
      driver = d;
      started(d, s);
    }).finally(() => {
      over = true;
    }),
  );
  return {
    ...handle,
    switchSchema(version, schemaId) {
      if (!driver || over) {
        throw new StreamproofError(
          'LOAD_INVALID_OPTION',
          `the load ${over ? 'has ended' : 'has not started'}: its schema cannot be switched now`,
        );
      }
      driver.switchSchema(version, schemaId);
    },
  };
}

/**
 * The handle a load returns, around its `body`: `ready` once the body calls `started` (rejects like `done`), `done`
 * with the summary, `stop()` (also on the AbortSignal and on dispose), which stops offering and drains.
 */
export function loadHandle<S, R>(
  signal: AbortSignal | undefined,
  body: (started: (driver: { stop(): unknown }, start: R) => void) => Promise<S>,
): { ready: Promise<R>; done: Promise<S>; stop(): Promise<S> } & AsyncDisposable {
  let driver: { stop(): unknown } | undefined;
  let stopRequested = false;
  let resolveReady!: (s: R) => void;
  let rejectReady!: (e: unknown) => void;
  const ready = new Promise<R>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  ready.catch(() => {}); // `done` carries the error too; an unobserved `ready` must not crash the process
  const done = body((d, start) => {
    driver = d;
    resolveReady(start);
    if (stopRequested || signal?.aborted) void d.stop();
  }).catch((e: unknown) => {
    rejectReady(e);
    throw e;
  });
  const onAbort = () => void stop().catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  void done.finally(() => signal?.removeEventListener('abort', onAbort)).catch(() => {});
  function stop(): Promise<S> {
    stopRequested = true;
    if (driver !== undefined) void driver.stop();
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

async function run(
  cfg: ResolvedLoad,
  history: History,
  clock: typeof systemClock,
  progress: Progress,
  started: (d: LoadDriver, s: LoadStart) => void,
): Promise<LoadSummary> {
  // Every broker, not just the one given: a producer bootstrapped on one address is stranded when that broker is
  // killed (a sender is replaced after every error, and the replacement must find the cluster).
  let brokers: string[] = [cfg.bootstrap];
  const mk = (k: number) => {
    const o = {
      bootstrap: brokers,
      topic: cfg.topic,
      clientId: `${cfg.clientId}-${cfg.baseProducerId + k}`,
      idempotent: cfg.idempotent,
      compression: cfg.compression,
      acksTimeoutMs: cfg.acksTimeoutMs,
    };
    return cfg.client === 'fast' ? new FastLaneSender(o) : new KafkaLaneSender(o);
  };
  const senders: (KafkaLaneSender | FastLaneSender)[] = [];
  try {
    progress({ phase: 'load', message: `connecting to ${cfg.bootstrap}, topic ${cfg.topic}` });
    // Existence first, with bounded retries: the producer's metadata call retries a missing topic indefinitely.
    const topics = await withTimeout(listTopics(cfg.bootstrap, cfg.clientId), cfg.acksTimeoutMs, cfg.bootstrap).catch(
      (e: unknown) => {
        if (e instanceof StreamproofError) throw e;
        throw new StreamproofError(
          'LOAD_CONNECT_FAILED',
          `cannot list topics on ${cfg.bootstrap}: ${String((e as Error)?.message ?? e)}; is the stack up (streamproof stack status)?`,
          {},
          { cause: e },
        );
      },
    );
    if (!topics.includes(cfg.topic)) {
      throw new StreamproofError(
        'LOAD_TOPIC_MISSING',
        `topic ${cfg.topic} does not exist on ${cfg.bootstrap}; create it first (the driver never auto-creates)`,
      );
    }
    brokers = await withTimeout(
      clusterBootstrap(cfg.bootstrap, `${cfg.clientId}-admin`),
      cfg.acksTimeoutMs,
      cfg.bootstrap,
    );
    senders.push(mk(0));
    const partitions = await withTimeout(senders[0]!.warmUp(), cfg.acksTimeoutMs, cfg.bootstrap).catch((e: unknown) => {
      if (e instanceof StreamproofError) throw e;
      if (/unknown topic|UNKNOWN_TOPIC/i.test(`${(e as Error)?.message} ${JSON.stringify(e)}`)) {
        throw new StreamproofError(
          'LOAD_TOPIC_MISSING',
          `topic ${cfg.topic} does not exist on ${cfg.bootstrap}; create it first (the driver never auto-creates)`,
          {},
          { cause: e },
        );
      }
      throw new StreamproofError(
        'LOAD_CONNECT_FAILED',
        `cannot fetch metadata of topic ${cfg.topic} from ${cfg.bootstrap}: ${String((e as Error)?.message ?? e)}; is the stack up (streamproof stack status)?`,
        {},
        { cause: e },
      );
    });
    if (partitions < 1) {
      throw new StreamproofError(
        'LOAD_TOPIC_MISSING',
        `topic ${cfg.topic} does not exist on ${cfg.bootstrap}; create it first (the driver never auto-creates)`,
      );
    }
    const totalLanes = Math.min(cfg.producers, partitions);
    const laneIds = sliceLanes(totalLanes, partitions, cfg.slice);
    if (laneIds.length === 0) {
      throw StreamproofError.at(
        'LOAD_INVALID_OPTION',
        `slice ${cfg.slice!.index} of ${cfg.slice!.count} holds no partition of ${cfg.topic} (${partitions} partitions); use at most ${partitions} workers`,
        { path: 'load.slice' },
      );
    }
    const lanes = laneIds.length;
    // The first sender (made for the metadata) serves the first lane: a sender does not know its lane.
    for (const k of laneIds.slice(1)) senders.push(mk(k));
    await withTimeout(Promise.all(senders.slice(1).map((s) => s.warmUp())), cfg.acksTimeoutMs, cfg.bootstrap);
    warmGenerator(cfg, partitions);
    const driver = new LoadDriver(cfg, {
      history,
      clock,
      progress,
      partitions,
      senders,
      laneIds,
      totalLanes,
      ...(cfg.startAt === undefined ? {} : { startTime: cfg.startAt }),
    });
    progress({
      phase: 'load',
      message: `offering ${cfg.rate === undefined ? 'stages' : `${cfg.rate}/s`} for ${cfg.durationMs} ms with ${lanes} producer(s) on ${partitions} partition(s)`,
    });
    driver.start();
    started(driver, { startTime: driver.startTime, partitions, producers: lanes });
    return await driver.done;
  } finally {
    await Promise.all(senders.map((s) => s.close()));
  }
}

/** Lanes (`p % totalLanes`) holding at least one partition of the slice, ascending; all lanes without a slice. */
export function sliceLanes(
  totalLanes: number,
  partitions: number,
  slice: { index: number; count: number } | undefined,
): number[] {
  const used = new Set<number>();
  for (let p = 0; p < partitions; p++) {
    if (slice === undefined || p % slice.count === slice.index) used.add(p % totalLanes);
  }
  return [...used].sort((a, b) => a - b);
}

/**
 * Runs the generator and the partitioner on throwaway records before the schedule starts: their first calls
 * compile (tens of ms on a busy 2-core machine), which would otherwise be the first events' schedule lag.
 */
function warmGenerator(cfg: ResolvedLoad, partitions: number): void {
  const gen = createBulkGenerator({ ...cfg.generator, producerId: cfg.baseProducerId, ratePerSec: 1000 });
  for (let k = 0; k < 4; k++) {
    const b = gen.nextBatch(1024);
    for (let i = 0; i < b.count; i++) partitionForKey(b.buffer, partitions, b.bounds[2 * i]!, b.bounds[2 * i + 1]!);
  }
}

async function listTopics(bootstrap: string, clientId: string): Promise<string[]> {
  const a = admin(bootstrap, `${clientId}-admin`);
  try {
    return await a.listTopics();
  } finally {
    // Not closeNow(): Admin.close takes a callback, not a force flag (close(true) throws inside the client).
    await a.close().catch(() => {});
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, bootstrap: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new StreamproofError('LOAD_CONNECT_FAILED', `no answer from ${bootstrap} within ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
