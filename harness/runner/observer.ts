/**
 * The observer: the harness's own read_committed reader of the SUT's output, over the direct bootstrap (faults on
 * the SUT's connections never blind it). Each output record becomes an `observed` history record; a value that does
 * not decode is recorded as undecodable, never dropped (observer-decode.ts).
 *
 * It must survive the faults the harness injects into the cluster itself (a broker killed, paused or restarted, a
 * leader moving, a rolling restart), so it is not a group consumer but a plain reader:
 * - **No consumer group**: every partition of the topic is read at an offset the observer keeps itself (`next[p]`,
 *   from 0), with @platformatic/kafka's group-less `Consumer.fetch` (read_committed, aborted transactions filtered),
 *   one request per partition leader in flight, leaders from the metadata. No coordinator, no rebalance, no commit.
 * - **Exactly once into the history**: read_committed delivers a partition in offset order, so a record is recorded
 *   only if its offset is `>= next[p]`, and `next[p]` moves past it. A re-fetch after an error, a reconnect or a
 *   leader change can re-deliver records; they are skipped, never recorded twice (a re-delivery would be a false
 *   `duplicated`).
 * - **Errors**: a failed fetch or metadata call drops the cached metadata and is tried again, with a backoff per
 *   leader; after a few failures in a row with no success in between (or any metadata failure) the client is
 *   replaced (a reconnect: fresh connections, the bootstrap list started at another broker, so a dead or frozen
 *   broker 1 does not hold every retry; the old client is closed once its fetches in flight have settled). Reading
 *   resumes at `next[p]` per partition. Errors and reconnects are counted (`notes()`), never thrown.
 * - **Blind**: a partition not read successfully for `staleMs` is blind (observer-blind.ts); records may be waiting
 *   there. So quiet is never measured over blind time: `lastRecordAt` is "now" while the observer is blind and at
 *   least the end of the last blind window after it (a drain that waits for quiet output waits for readable output),
 *   and `waitQuiet` restarts its quiet clock. The observer throws (the run cannot be checked: verdict unknown) only when it has been
 *   blind for `blindLimitMs` in a row (`lastRecordAt`, `waitQuiet`), or is blind at `waitQuiet`'s deadline, saying
 *   which partitions, since when, and the last error.
 *
 * Latency note: `time` is when the observer received the record, so end-to-end latency includes the observer's own
 * fetch wait (maxWaitTime, 50 ms by default): a small, constant, documented bias towards the pessimistic side. While
 * a partition's leader is down the observer cannot read it either; those blind windows are in `notes()`.
 */
import { Consumer } from '@platformatic/kafka';
import type { OutputRecord } from '../contracts/contract.ts';
import type { History } from '../history/index.ts';
import { type Bootstrap, bootstrapList, closeNow, clusterBootstrap, rotate } from '../kafka/clients.ts';
import { securityFor } from '../kafka/security.ts';
import { StreamproofError } from '../util/errors.ts';
import { BlindWindows } from './observer-blind.ts';
import { backoff, describe, withTimeout } from './observer-calls.ts';
import { type Decoder, headerMap, recordObserved } from './observer-decode.ts';

export type { Decoder } from './observer-decode.ts';

export interface Observer {
  /** Records seen so far. */
  readonly count: number;
  /**
   * Epoch ms of the last record seen (or of the observer's start), or later: the end of the last window in which
   * some partition could not be read, and "now" while one cannot (quiet output is only what the observer could see).
   * Throws StreamproofError `TIMEOUT` once the observer has been blind for `blindLimitMs` in a row.
   */
  readonly lastRecordAt: number;
  /** Why the observer cannot read the whole output right now (which partitions, since when); undefined when it can. */
  readonly unreadable: string | undefined;
  /** Failed fetch or metadata calls (each was retried). */
  readonly errors: number;
  /** Times the client was replaced after errors (reading resumed at the observer's own offsets). */
  readonly reconnects: number;
  /** The next offset to read per output partition (index = partition): past every record, marker and aborted batch read. */
  positions(): readonly bigint[];
  /**
   * Resolves once nothing new arrived for `quietMs` while every partition was readable, or at `deadline` (epoch ms);
   * true if it went quiet. Throws when the observer cannot read the output (see the module comment).
   */
  waitQuiet(quietMs: number, deadline: number): Promise<boolean>;
  /** What went wrong while reading and how it was ridden out, for the run's notes; empty when nothing did. */
  notes(): string[];
  stop(): Promise<void>;
}

export interface ObserverOptions {
  /** The direct bootstrap: one address, "h:p,h:p", or a list. Every broker of the cluster is added to it. */
  bootstrap: Bootstrap;
  topic: string;
  history: History;
  decode: Decoder;
  /** Also hand every raw record to this (e.g. the attribution contract's collector). */
  onRecord?: (record: OutputRecord) => void;
  maxWaitTimeMs?: number;
  /** A partition not read successfully for this long is blind (default max(3000, 20 x maxWaitTimeMs)). */
  staleMs?: number;
  /** Blind this long without a break: the observer gives up (lastRecordAt and waitQuiet throw). Default 90 s. */
  blindLimitMs?: number;
  /** Request timeout of the client (default 5000 ms): how long a frozen broker can hold one fetch. */
  requestTimeoutMs?: number;
  /** Failed calls in a row after which the client is replaced (default 3). */
  reconnectAfterErrors?: number;
}

interface TopicMeta {
  id: string;
  leaders: number[];
}

type FetchResult = Awaited<ReturnType<Consumer['fetch']>>;

const ISOLATION_READ_COMMITTED = 1;
const IS_CONTROL = 0b100000;

export async function startObserver(opts: ObserverOptions): Promise<Observer> {
  const maxWait = opts.maxWaitTimeMs ?? 50;
  const staleMs = opts.staleMs ?? Math.max(3000, 20 * maxWait);
  const blindLimitMs = opts.blindLimitMs ?? 90_000;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 5000;
  const reconnectAfter = opts.reconnectAfterErrors ?? 3;
  const bootstrap = await clusterBootstrap(bootstrapList(opts.bootstrap), 'streamproof-observer');
  const h = opts.history;
  const started = Date.now();

  let generation = 0;
  const newClient = () =>
    new Consumer({
      clientId: 'streamproof-observer',
      // Never joined: Consumer.fetch needs no group, but the client wants a name.
      groupId: `streamproof-observer-${started.toString(36)}-${generation}`,
      bootstrapBrokers: rotate(bootstrap, generation),
      ...securityFor(bootstrap),
      maxWaitTime: maxWait,
      isolationLevel: ISOLATION_READ_COMMITTED,
      timeout: requestTimeoutMs,
      connectTimeout: Math.min(requestTimeoutMs, 3000),
      // The observer retries itself (metadata refreshed, client replaced); the client's own retries would only
      // stack timeouts on a dead broker.
      retries: 0,
      metadataMaxAge: 2000,
    });
  let client = newClient();
  // Fetches in flight per client: a replaced client is closed once its own have settled (closing it at once would
  // fail fetches from healthy brokers, which would then count as errors and back off for nothing).
  const load = new Map<Consumer, number>();
  const retired = new Set<Consumer>();
  const release = (c: Consumer) => {
    const n = (load.get(c) ?? 1) - 1;
    if (n > 0) {
      load.set(c, n);
      return;
    }
    load.delete(c);
    if (retired.delete(c)) void closeNow(c);
  };

  let count = 0;
  let lastRecordAt = started;
  let errors = 0;
  let reconnects = 0;
  let inARow = 0;
  let firstError: string | undefined;
  let lastError: string | undefined;
  let meta: TopicMeta | undefined;
  let metaStale = true;
  let stopped = false;
  // Per partition: the next offset to record, whether a fetch is in flight, when it was last read successfully.
  const next: bigint[] = [];
  const inFlight: boolean[] = [];
  const lastOkAt: number[] = [];
  const leadersBusy = new Set<number>();
  // Per leader after failed fetches: failures in a row and the time before which it is not asked again.
  const leaderBackoff = new Map<number, { failures: number; until: number }>();
  let metaAt = 0;
  // Blind windows: when the current one began (some partition stale), and the longest one so far.
  const blind = new BlindWindows(staleMs);

  let wakeUp: (() => void) | undefined;
  const wake = () => {
    wakeUp?.();
    wakeUp = undefined;
  };
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wakeUp = () => {
        clearTimeout(t);
        resolve();
      };
    });

  const failed = (err: unknown, what: string) => {
    errors++;
    inARow++;
    lastError = `${what}: ${describe(err)}`;
    firstError ??= lastError;
    metaStale = true;
    try {
      client.clearMetadata();
    } catch {
      // a client being replaced may already be closed
    }
  };

  const reconnect = () => {
    const old = client;
    generation++;
    reconnects++;
    inARow = 0;
    client = newClient();
    if (load.has(old)) retired.add(old);
    else void closeNow(old);
  };

  const ensurePartitions = (n: number) => {
    for (let p = next.length; p < n; p++) {
      next.push(0n);
      inFlight.push(false);
      lastOkAt.push(started);
    }
  };

  const record = (
    p: number,
    key: Buffer | undefined,
    value: Buffer,
    offset: bigint,
    headers: [Buffer | null, Buffer | null][] | undefined,
  ) => {
    const now = Date.now();
    count++;
    lastRecordAt = now;
    recordObserved(h, opts.decode, opts.onRecord, {
      key: key?.toString('utf8'),
      value,
      headers: headerMap(headers),
      partition: p,
      offset: Number(offset),
      time: now,
    });
  };

  /** Records what a fetch returned, each offset once; returns nothing (next[] moves). */
  const take = (res: FetchResult) => {
    for (const t of res.responses) {
      for (const part of t.partitions) {
        const p = part.partitionIndex;
        const batches = part.records;
        if (!batches || p >= next.length) continue;
        let end = next[p]!;
        for (const batch of batches) {
          const last = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
          if (last > end) end = last;
          if (batch.attributes & IS_CONTROL) continue;
          for (const r of batch.records) {
            const offset = batch.firstOffset + BigInt(r.offsetDelta);
            // Re-delivered (a batch starting before the fetch offset, a fetch repeated after an error): seen already.
            if (offset < next[p]!) continue;
            next[p] = offset + 1n;
            record(p, r.key ?? undefined, r.value ?? Buffer.alloc(0), offset, r.headers);
          }
        }
        // Past control markers and aborted batches too, so they are not fetched again.
        if (end > next[p]!) next[p] = end;
      }
    }
  };

  const fetchFrom = async (leader: number, parts: number[], m: TopicMeta) => {
    const c = client;
    const began = Date.now();
    load.set(c, (load.get(c) ?? 0) + 1);
    try {
      const res = await withTimeout(
        c.fetch({
          node: leader,
          topics: [
            {
              topicId: m.id,
              partitions: parts.map((p) => ({
                partition: p,
                fetchOffset: next[p]!,
                partitionMaxBytes: 8 * 1024 * 1024,
                // -1: no epoch fencing; the observer reads committed data only, which a new leader never truncates.
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
              })),
            },
          ],
          maxWaitTime: maxWait,
          minBytes: 1,
          maxBytes: 16 * 1024 * 1024,
          isolationLevel: ISOLATION_READ_COMMITTED,
        }),
        requestTimeoutMs + 2000,
        `fetch from broker ${leader}`,
      );
      if (stopped) return;
      take(res);
      for (const p of parts) lastOkAt[p] = began;
      inARow = 0;
      leaderBackoff.delete(leader);
    } catch (err) {
      if (stopped) return;
      const failures = (leaderBackoff.get(leader)?.failures ?? 0) + 1;
      leaderBackoff.set(leader, { failures, until: Date.now() + backoff(failures) });
      failed(err, `fetch from broker ${leader} (partitions ${parts.join(', ')})`);
      if (c === client && inARow >= reconnectAfter) reconnect();
    } finally {
      release(c);
      for (const p of parts) inFlight[p] = false;
      leadersBusy.delete(leader);
      wake();
    }
  };

  const trackBlind = (now: number) => blind.track(now, lastOkAt);

  const loop = async () => {
    while (!stopped) {
      trackBlind(Date.now());
      if ((metaStale && Date.now() - metaAt >= 200) || meta === undefined) {
        metaAt = Date.now();
        try {
          const md = await withTimeout(
            client.metadata({ topics: [opts.topic], forceUpdate: true }),
            requestTimeoutMs + 2000,
            'metadata',
          );
          const t = md.topics.get(opts.topic);
          if (!t) throw new Error(`topic ${opts.topic} is not in the metadata`);
          meta = { id: t.id, leaders: t.partitions.map((p) => p.leader) };
          ensurePartitions(t.partitionsCount);
          metaStale = false;
        } catch (err) {
          if (stopped) break;
          failed(err, 'metadata');
          // A metadata call goes to the first reachable bootstrap broker: a frozen one would hold every retry.
          reconnect();
          await nap(backoff(errors));
          continue;
        }
      }
      const m = meta!;
      const byLeader = new Map<number, number[]>();
      for (let p = 0; p < next.length; p++) {
        if (inFlight[p]) continue;
        const leader = m.leaders[p] ?? -1;
        if (leader < 0) {
          metaStale = true;
          continue;
        }
        if (leadersBusy.has(leader) || (leaderBackoff.get(leader)?.until ?? 0) > Date.now()) continue;
        const l = byLeader.get(leader);
        if (l) l.push(p);
        else byLeader.set(leader, [p]);
      }
      for (const [leader, parts] of byLeader) {
        leadersBusy.add(leader);
        for (const p of parts) inFlight[p] = true;
        void fetchFrom(leader, parts, m);
      }
      // Woken when a fetch ends; after errors, a backoff first (a dead leader answers at once: no busy loop).
      await nap(byLeader.size > 0 ? 1000 : 100);
    }
  };
  const running = loop();

  /** Why the observer cannot see the output, or undefined if it can. */
  const blindness = (now: number): string | undefined => {
    const stale = trackBlind(now);
    if (stale.length === 0 || blind.since === undefined) return undefined;
    return (
      `the observer has not read partition(s) ${stale.join(', ')} of ${opts.topic} for ${Math.round((now - blind.since) / 1000)} s ` +
      `(${errors} failed call(s), ${reconnects} reconnect(s); last error: ${lastError ?? 'none: fetches did not return'})`
    );
  };

  return {
    get count() {
      return count;
    },
    get lastRecordAt() {
      if (stopped) return lastRecordAt;
      const now = Date.now();
      const why = blindness(now);
      if (why === undefined) return Math.max(lastRecordAt, blind.lastEnd);
      if (now - blind.since! >= blindLimitMs) throw new StreamproofError('TIMEOUT', `${why}; giving up`);
      return now;
    },
    get unreadable() {
      return stopped ? undefined : blindness(Date.now());
    },
    get errors() {
      return errors;
    },
    get reconnects() {
      return reconnects;
    },
    positions: () => [...next],
    async waitQuiet(quietMs, deadline) {
      // Quiet is measured from the later of the last record and this call: a pipeline that has written nothing
      // yet still gets the whole quiet period to start. Time during which some partition could not be read does
      // not count: the quiet clock starts again once every partition is readable.
      let since = Date.now();
      for (;;) {
        const now = Date.now();
        const why = blindness(now);
        if (why !== undefined) {
          since = now;
          if (now - blind.since! >= blindLimitMs) throw new StreamproofError('TIMEOUT', `${why}; giving up`);
          if (now >= deadline) {
            throw new StreamproofError('TIMEOUT', `${why}, at the drain deadline: the output cannot be checked`);
          }
        } else {
          if (now - Math.max(lastRecordAt, since) >= quietMs) return true;
          if (now >= deadline) return false;
        }
        await new Promise((r) => setTimeout(r, Math.min(100, quietMs)));
      }
    },
    notes() {
      if (!stopped) trackBlind(Date.now());
      const out: string[] = [];
      if (errors > 0) {
        out.push(
          `observer: ${errors} failed fetch/metadata call(s) ridden out, ${reconnects} reconnect(s); ` +
            `first error: ${firstError}; last error: ${lastError}`,
        );
      }
      out.push(...blind.notes(opts.topic));
      return out;
    },
    async stop() {
      if (!stopped) trackBlind(Date.now());
      stopped = true;
      wake();
      await running.catch(() => undefined);
      await Promise.all([client, ...retired].map((c) => closeNow(c)));
    },
  };
}
