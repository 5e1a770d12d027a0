/**
 * The attributor: the exactly-once stream processor of the reference pipeline.
 *
 * Model. Input partitions are the unit of ownership. For each input partition p this process owns, it keeps the
 * per-user model state of p's users in memory, a transactional producer with the id `${transactionalId}-p${p}`, and
 * `position` (the next input offset to process). Every ~100 ms (`batchMs`) it folds each owned partition's new
 * records through the model's `applyEvent` and writes, in ONE Kafka transaction per partition and micro-batch:
 *   - the attribution records to the output topic (JSON, key user_id),
 *   - the changed users' `serializeState` to the compacted changelog, partition p (key user_id),
 *   - late, invalid and undecodable records to the DLQ (reason in headers),
 *   - the consumed offset of p to the consumer group (TxnOffsetCommit, with the group generation).
 * The in-memory state and `position` advance only after the commit succeeds.
 *
 * Why per-partition transactional ids (not per instance). Whoever takes over p, after a restart, a rebalance or a
 * crash, starts p's producer with the same transactional id: InitProducerId bumps the epoch, which fences the previous
 * owner's producer (a zombie's later sends and commits fail) and completes its open transaction (aborts it), before
 * the new owner reads anything. Only then does it restore: it commits a unique marker to changelog partition p and
 * reads the changelog (read_committed) until it sees that marker, so it has every committed state write of p and
 * nothing uncommitted; then it reads p's committed offset, which is stable because no transaction of p is open. So
 * output, state and offsets move together: a batch is either fully visible or not at all, and is reprocessed from the
 * same state when it was not. Records before `position` (redelivered by the consumer after a rebalance) are skipped.
 * With per-instance ids a new owner could not fence the old owner of one partition without fencing all of it.
 *
 * Failure handling is crash-only per partition: any failed batch aborts, drops p's producer and state, and p is taken
 * over again (fence, restore) from scratch on the next tick, as if it had just been assigned. The consumer is crash-only
 * per *session*: when its stream fails (the client gives up on a broker that is down, a coordinator that moved) the
 * session ends: every owned partition is dropped (producers closed), the consumer closed (leaving the group), and a
 * new session starts with fresh clients, bootstrapped on every broker of the cluster (the list rotated, so a dead
 * first broker does not hold it), from the group's committed offsets. It is the same path as a process restart,
 * without the process exiting: a broker killed or a rolling restart is ridden through, and exactly-once holds for the
 * same reasons (the new owner of p fences the old producer of p before it reads anything).
 */
import { randomUUID } from 'node:crypto';
import { Consumer, type Message, Producer } from '@platformatic/kafka';
import type { CommonConfig } from '../common/config.ts';
import { type Decoded, EventDecoder } from '../common/event-codec.ts';
import { startStatusServer } from '../common/http.ts';
import {
  bufferMessages,
  chunkBySize,
  discoverBootstrap,
  ensureTopics,
  errorText,
  guarded,
  headers,
  headerValue,
  isFencingError,
  rotate,
} from '../common/kafka.ts';
import { pause, within } from '../common/lifecycle.ts';
import { errorFields, type Logger } from '../common/log.ts';
import { Registry } from '../common/metrics.ts';
import { SchemaRegistryClient } from '../common/registry.ts';
import {
  type AttributionInput,
  applyEvent,
  createUserState,
  deserializeState,
  type ResolvedAttributionOptions,
  serializeState,
  type UserState,
} from '../model/index.ts';

export interface AttributorConfig extends CommonConfig {
  changelogTopic: string;
  /** Micro-batch interval, ms (default 100). */
  batchMs: number;
  /** Most records of one partition in one transaction (default 5000). */
  batchMax: number;
  /**
   * Fault-injection aid, default 0: hold every transaction open this long between its last send and its commit, so a
   * kill -9 lands inside a transaction deterministically. Never set in production.
   */
  commitDelayMs: number;
  /**
   * TEST-ONLY knob, default 0 (off): a deliberately broken build for showing that `streamproof certify` catches a
   * regression. When N > 0, every Nth attribution record of a partition is written twice (both copies inside the
   * batch's transaction, so the duplicate is committed). Never set in production.
   */
  injectDuplicateEvery: number;
  restoreTimeoutMs: number;
  /** Longest any single transaction step may take before the batch is failed (default 30000). */
  txTimeoutMs: number;
  options: ResolvedAttributionOptions;
}

async function closeQuietly(client: { close(force?: boolean): Promise<void> }): Promise<void> {
  try {
    await client.close(true);
  } catch {
    // closing a client that failed (fenced, broker gone) may fail again; there is nothing left to release
  }
}

export interface StartedAttributor {
  readonly metricsPort: number;
  stop(): Promise<void>;
}

/** Key of the restore marker in the changelog (never a user id: user ids are "u" + 7 digits). */
export const RESTORE_MARKER_KEY = '__streamproof_restore__';
/** Header of every changelog record: the last input offset of the batch that wrote it (decimal). */
export const INPUT_OFFSET_HEADER = 'streamproof-input-offset';
/** Header of every changelog record: the consumer group whose offsets the input offset refers to. */
export const GROUP_HEADER = 'streamproof-group';

type Msg = Message<Buffer, Buffer, Buffer, Buffer>;
type Out = { topic: string; key: Buffer; value: Buffer; partition?: number; headers?: Map<Buffer, Buffer> };

interface Owned {
  partition: number;
  producer: Producer;
  users: Map<string, UserState>;
  /** Next input offset to process; -1 = no committed offset yet (process everything). */
  position: bigint;
  /** The group generation it was taken over in. */
  generation: number;
  /** Highest offset queued, so records redelivered after a rebalance are not queued twice. */
  lastQueued: bigint;
  queue: Msg[];
}

export async function startAttributor(cfg: AttributorConfig, log: Logger): Promise<StartedAttributor> {
  const metrics = new Registry();
  const recordsIn = metrics.counter('attributor_records_in_total', 'Input records processed and committed');
  const recordsOut = metrics.counter('attributor_records_out_total', 'Records committed, by topic kind');
  const dlqTotal = metrics.counter('attributor_dlq_total', 'Records dead-lettered, by reason');
  const txTotal = metrics.counter('attributor_transactions_total', 'Transactions, by result');
  const batchLatency = metrics.histogram(
    'attributor_batch_latency_seconds',
    'Micro-batch latency per partition, from start of processing to transaction commit',
  );
  const txOpen = metrics.gauge('attributor_transaction_open', 'Transactions currently open');
  const owned_ = metrics.gauge('attributor_partitions_owned', 'Input partitions owned and restored');
  const lagGauge = metrics.gauge('attributor_consumer_lag', 'Last stable offset minus position, per owned partition');
  const restoredUsers = metrics.counter('attributor_restored_users_total', 'User states restored from the changelog');
  const restores = metrics.counter('attributor_restores_total', 'Partition takeovers (fence + restore)');

  const inputPartitions = (
    await ensureTopics(cfg.bootstrap, [{ name: cfg.inputTopic, partitions: cfg.partitions }], cfg.replicationFactor)
  ).get(cfg.inputTopic)!;
  // The changelog is co-partitioned with the input: the state of p's users lives in changelog partition p.
  const counts = await ensureTopics(
    cfg.bootstrap,
    [
      {
        name: cfg.changelogTopic,
        partitions: inputPartitions,
        configs: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '60000' },
      },
      { name: cfg.outputTopic, partitions: inputPartitions },
      { name: cfg.dlqTopic, partitions: inputPartitions },
    ],
    cfg.replicationFactor,
  );
  if (counts.get(cfg.changelogTopic)! < inputPartitions) {
    throw new Error(
      `changelog ${cfg.changelogTopic} has ${counts.get(cfg.changelogTopic)} partitions, input ${cfg.inputTopic} has ${inputPartitions}: they must be co-partitioned (recreate the changelog)`,
    );
  }

  const decoder = new EventDecoder(cfg.registryUrl ? new SchemaRegistryClient(cfg.registryUrl) : undefined);
  // Every broker, so a session (and each producer) can start while the configured bootstrap broker is down.
  let bootstrap = await discoverBootstrap(cfg.bootstrap, `streamproof-attributor-${cfg.instance}-bootstrap`);
  const sessionsTotal = metrics.counter(
    'attributor_sessions_total',
    'Consumer sessions started (a new one after a failed one)',
  );

  const owned = new Map<number, Owned>();
  // TEST-ONLY (injectDuplicateEvery): attribution records staged per partition.
  const dupCounter = new Map<number, number>();
  /**
   * Records of partitions we do not own (yet): assigned but not taken over, or revoked. The consumer stream delivers
   * a record once per fetch position, so dropping one here would lose it if we take the partition over later without
   * the group resetting the stream (no committed offset yet). Takeover filters them by the committed position.
   */
  const held = new Map<number, Msg[]>();
  const hold = (p: number, msgs: Msg[]) => {
    if (msgs.length === 0) return;
    const h = held.get(p);
    if (h) h.push(...msgs);
    else held.set(p, [...msgs]);
  };
  const notBefore = new Map<number, number>();
  /**
   * Partitions we were fenced on: someone else took them over, so the group moved them and will tell us. Taking them
   * back before the next assignment would fence the rightful owner in turn.
   */
  const fenced = new Map<number, { generation: number; until: number }>();
  let generation = -1;

  /**
   * One consumer session: the group member, its stream and what it delivered. `failed` is set when the stream dies;
   * the loop then ends the session (closeSession) and opens a new one.
   */
  interface Session {
    n: number;
    consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
    stream: Awaited<ReturnType<Consumer<Buffer, Buffer, Buffer, Buffer>['consume']>>;
    incoming: ReturnType<typeof bufferMessages<Msg>>;
    assigned: number[] | null;
    assignmentChanged: boolean;
    failed: unknown;
    /** Takeovers failed in a row: the consumer's own group calls (OffsetFetch) may be stuck on a stale coordinator. */
    takeoverFailures: number;
  }
  let sessions = 0;
  let session: Session | undefined;

  const openSession = async (): Promise<Session> => {
    const n = ++sessions;
    bootstrap = [
      ...new Set([
        ...bootstrap,
        ...(await discoverBootstrap(rotate(bootstrap, n), `streamproof-attributor-${cfg.instance}-bootstrap`)),
      ]),
    ];
    const consumer = guarded(
      new Consumer<Buffer, Buffer, Buffer, Buffer>({
        clientId: `streamproof-attributor-${cfg.instance}`,
        groupId: cfg.groupId,
        bootstrapBrokers: rotate(bootstrap, n),
        sessionTimeout: 10_000,
        rebalanceTimeout: 30_000,
        heartbeatInterval: 1_000,
        timeout: 30_000,
        retries: 20,
        retryDelay: 500,
        maxWaitTime: Math.max(10, cfg.batchMs),
        isolationLevel: 1,
      }),
    );
    const s = {
      n,
      consumer,
      assigned: null,
      assignmentChanged: false,
      failed: undefined,
      takeoverFailures: 0,
    } as unknown as Session;
    consumer.on('consumer:group:join', (p) => {
      if (session !== s && session !== undefined) return;
      generation = p.generationId ?? consumer.generationId;
      s.assigned = (p.assignments ?? []).filter((a) => a.topic === cfg.inputTopic).flatMap((a) => a.partitions);
      s.assignmentChanged = true;
      log('assignment', { session: n, generation: p.generationId, partitions: s.assigned });
    });
    try {
      s.stream = await within(
        consumer.consume({
          topics: [cfg.inputTopic],
          mode: 'committed',
          fallbackMode: 'earliest',
          autocommit: false,
          isolationLevel: 1,
          maxWaitTime: Math.max(10, cfg.batchMs),
        }),
        cfg.txTimeoutMs * 2,
        'joining the group',
      );
    } catch (err) {
      await closeQuietly(consumer);
      throw err;
    }
    s.incoming = bufferMessages<Msg>(s.stream, cfg.batchMax * 4, (err) => {
      if (s.failed !== undefined) return;
      s.failed = err ?? new Error('consumer stream failed');
      log('consumer stream failed; the session ends and a new one starts', { session: n, ...errorFields(err) });
    });
    sessionsTotal.inc();
    return s;
  };

  /** Ends a session: every owned partition dropped (its next owner, maybe us, fences and restores), the consumer closed. */
  const closeSession = async (s: Session, why: string) => {
    for (const p of [...owned.keys()]) await drop(p, why);
    // The next session's stream starts again from the committed offsets: what this one delivered is not needed.
    held.clear();
    owned_.set(0);
    await within(s.stream.close(), 5_000, 'closing the stream').catch(() => {});
    // A graceful close leaves the group (the next member is assigned at once); a dead coordinator cannot hold it.
    await within(s.consumer.close(), 5_000, 'leaving the group').catch(() => closeQuietly(s.consumer));
  };

  const newProducer = (p: number) =>
    guarded(
      new Producer({
        clientId: `streamproof-attributor-${cfg.instance}-p${p}`,
        bootstrapBrokers: rotate(bootstrap, p),
        transactionalId: `${cfg.transactionalId}-p${p}`,
        // InitProducerId as a *new* producer (-1/-1). The client's default (0/0) reads to the broker as "producer 0,
        // epoch 0 bumping itself", which a coordinator that knows this transactional id refuses as fenced: a second
        // owner could then never take over.
        producerId: -1n,
        producerEpoch: -1,
        idempotent: true,
        acks: -1,
        retries: 10,
        retryDelay: 250,
        timeout: 30_000,
      }),
    );

  /** Fence the previous owner of each partition, then restore state and position. */
  const takeOver = async (s: Session, partitions: number[]) => {
    const atGeneration = generation;
    const fresh = new Map<number, Owned>();
    const nonces = new Map<number, string>();
    try {
      await Promise.all(
        partitions.map(async (p) => {
          const producer = newProducer(p);
          fresh.set(p, {
            partition: p,
            producer,
            users: new Map(),
            position: -1n,
            lastQueued: -1n,
            queue: [],
            generation: atGeneration,
          });
          const nonce = randomUUID();
          // beginTransaction runs InitProducerId for `${transactionalId}-p${p}`: the fence.
          const txn = await within(producer.beginTransaction(), cfg.txTimeoutMs, `fence p${p}`);
          await txn.send({
            messages: [
              {
                topic: cfg.changelogTopic,
                partition: p,
                key: Buffer.from(RESTORE_MARKER_KEY),
                value: Buffer.from(nonce),
              },
            ],
          });
          await txn.commit();
          nonces.set(p, nonce);
        }),
      );
      // No transaction of these partitions is open now, so their committed offsets are stable.
      const committed = await within(
        s.consumer.listCommittedOffsets({ topics: [{ topic: cfg.inputTopic, partitions }] }),
        cfg.txTimeoutMs,
        'OffsetFetch',
      );
      const offsets = committed.get(cfg.inputTopic) ?? [];
      for (const p of partitions) {
        const c = offsets[p];
        fresh.get(p)!.position = c !== undefined && c >= 0n ? c : -1n;
      }
      const restored = await restore(nonces, fresh);
      for (const p of partitions) {
        const o = fresh.get(p)!;
        o.lastQueued = o.position - 1n;
        const earlier = (held.get(p) ?? []).sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
        held.delete(p);
        for (const m of earlier) {
          if (m.offset <= o.lastQueued) continue;
          o.lastQueued = m.offset;
          o.queue.push(m);
        }
        owned.set(p, o);
      }
      restores.inc({}, partitions.length);
      restoredUsers.inc({}, restored);
      log('partitions taken over', {
        partitions,
        users: restored,
        positions: Object.fromEntries(partitions.map((p) => [p, String(fresh.get(p)!.position)])),
      });
    } catch (err) {
      for (const o of fresh.values()) if (!owned.has(o.partition)) await closeQuietly(o.producer);
      throw err;
    }
  };

  /** Reads the changelog (read_committed) until every partition's marker; returns the number of users restored. */
  const restore = async (nonces: Map<number, string>, into: Map<number, Owned>): Promise<number> => {
    const reader = guarded(
      new Consumer<Buffer, Buffer, Buffer, Buffer>({
        clientId: `streamproof-attributor-${cfg.instance}-restore`,
        groupId: `${cfg.groupId}-restore-${randomUUID()}`,
        bootstrapBrokers: rotate(bootstrap, sessions),
        timeout: 30_000,
        retries: 10,
        retryDelay: 250,
        maxWaitTime: 100,
        isolationLevel: 1,
      }),
    );
    const pending = new Set(nonces.keys());
    let users = 0;
    // Per partition and user: the latest state record written at an input offset below the committed position.
    // Records at or past it belong to transactions that did not commit (we must not trust the client's read_committed
    // filter alone: @platformatic/kafka 1.35 lets records of an aborted transaction through when the abort marker is
    // not in the same fetch response, or when one producer id aborted twice in it). An aborted record below the
    // position is always followed in the log by the committed rewrite of the same user (the retry reprocessed the
    // same events from the same state), so "latest below the position" is the committed state.
    const isCommitted = (o: Owned, m: Msg) => {
      // A changelog shared by mistake with another consumer group: its offsets mean nothing here.
      const group = headerValue(m.headers as Map<unknown, unknown>, GROUP_HEADER);
      if (group !== undefined && group !== cfg.groupId) return false;
      const tag = headerValue(m.headers as Map<unknown, unknown>, INPUT_OFFSET_HEADER);
      if (tag === undefined) return true;
      return o.position >= 0n && BigInt(tag) < o.position;
    };
    try {
      const s = await reader.consume({
        topics: [cfg.changelogTopic],
        mode: 'earliest',
        autocommit: false,
        isolationLevel: 1,
      });
      const timer = setTimeout(
        () =>
          s.destroy(
            new Error(
              `changelog restore incomplete after ${cfg.restoreTimeoutMs} ms (partitions ${[...pending].join(', ')})`,
            ),
          ),
        cfg.restoreTimeoutMs,
      );
      try {
        for await (const m of s as AsyncIterable<Msg>) {
          if (!pending.has(m.partition)) continue;
          const key = m.key?.toString() ?? '';
          if (key === RESTORE_MARKER_KEY) {
            if (m.value?.toString() === nonces.get(m.partition)) {
              pending.delete(m.partition);
              if (pending.size === 0) break;
            }
            continue;
          }
          const owner = into.get(m.partition)!;
          if (!isCommitted(owner, m)) continue;
          const target = owner.users;
          if (m.value === null || m.value === undefined || m.value.length === 0) target.delete(key);
          else target.set(key, deserializeState(m.value.toString()));
        }
      } finally {
        clearTimeout(timer);
        await s.close().catch(() => {});
      }
      if (pending.size > 0) throw new Error(`changelog restore ended early (partitions ${[...pending].join(', ')})`);
      for (const p of nonces.keys()) users += into.get(p)!.users.size;
      return users;
    } finally {
      await closeQuietly(reader);
    }
  };

  const drop = async (p: number, why: string) => {
    const o = owned.get(p);
    if (!o) return;
    owned.delete(p);
    // The stream will not deliver these again unless the group resets it: keep them for the next owner we become.
    hold(p, o.queue);
    await closeQuietly(o.producer);
    log('partition dropped', { partition: p, why });
  };

  const dlqRecord = (m: Msg, reason: string, kind: string, message: string, value?: Buffer): Out => ({
    topic: cfg.dlqTopic,
    key: m.key ?? Buffer.alloc(0),
    value: value ?? m.value ?? Buffer.alloc(0),
    headers: headers({
      'streamproof-dlq-source': 'attributor',
      'streamproof-dlq-kind': kind,
      'streamproof-dlq-reason': reason,
      'streamproof-dlq-message': message.slice(0, 1000),
      'streamproof-dlq-origin': `${m.topic}/${m.partition}/${m.offset}`,
    }),
  });

  const processPartition = async (s: Session, o: Owned) => {
    const consumer = s.consumer;
    const todo = o.queue.filter((m) => o.position < 0n || m.offset >= o.position);
    if (todo.length === 0) {
      o.queue = [];
      return;
    }
    const take = todo.slice(0, cfg.batchMax);
    const last = take[take.length - 1]!;
    const started = performance.now();
    const staged = new Map<string, UserState>();
    const out: Out[] = [];
    const dlq: Out[] = [];
    const dlqReasons: string[] = [];
    let outputs = 0;
    const decoded: Decoded[] = await Promise.all(take.map((m) => decoder.decode(m.value)));
    take.forEach((m, i) => {
      const d = decoded[i]!;
      if (!d.ok) {
        dlq.push(dlqRecord(m, d.reason, 'undecodable', d.message));
        dlqReasons.push(d.reason);
        return;
      }
      const e = d.event;
      const before = staged.get(e.user_id) ?? o.users.get(e.user_id) ?? createUserState();
      const r = applyEvent(before, e as AttributionInput, cfg.options);
      if (r.state !== before) staged.set(e.user_id, r.state);
      for (const rec of r.outputs) {
        out.push({ topic: cfg.outputTopic, key: Buffer.from(rec.user_id), value: Buffer.from(JSON.stringify(rec)) });
        // ---- TEST-ONLY knob (off unless STREAMPROOF_ATTRIBUTOR_INJECT_DUPLICATE_EVERY is set): a broken build ----
        if (cfg.injectDuplicateEvery > 0) {
          const n = (dupCounter.get(o.partition) ?? 0) + 1;
          dupCounter.set(o.partition, n);
          if (n % cfg.injectDuplicateEvery === 0) out.push(out[out.length - 1]!);
        }
        // ---- end of the test-only knob ----
      }
      outputs += r.outputs.length;
      if (r.rejection !== null) {
        dlq.push(
          dlqRecord(m, r.rejection.reason, r.rejection.kind, r.rejection.message, Buffer.from(JSON.stringify(e))),
        );
        dlqReasons.push(r.rejection.reason);
      }
    });
    const tag = headers({ [INPUT_OFFSET_HEADER]: String(last.offset), [GROUP_HEADER]: cfg.groupId });
    for (const [user, state] of staged) {
      out.push({
        topic: cfg.changelogTopic,
        partition: o.partition,
        key: Buffer.from(user),
        value: Buffer.from(serializeState(state)),
        headers: tag,
      });
    }
    out.push(...dlq);
    const t = cfg.txTimeoutMs;
    const txn = await within(o.producer.beginTransaction(), t, 'beginTransaction');
    txOpen.set(txOpen.get() + 1);
    try {
      for (const chunk of chunkBySize(out)) await within(txn.send({ messages: chunk }), t, 'transaction send');
      await within(txn.addConsumer(consumer), t, 'AddOffsetsToTxn');
      // The offset commit carries the group generation and member id of *now*, not of the fetch: records fetched
      // before a rebalance that kept this partition here are committed under the new generation. Ownership itself is
      // guarded by the producer fence (a new owner's InitProducerId makes every later step of ours fail).
      const offsetOf = {
        ...last,
        metadata: {
          consumer: {
            groupId: consumer.groupId,
            generationId: consumer.generationId,
            memberId: consumer.memberId,
            coordinatorId: consumer.coordinatorId,
          },
        },
      } as Msg;
      await within(txn.addOffset(offsetOf), t, 'TxnOffsetCommit');
      if (cfg.commitDelayMs > 0) await pause(cfg.commitDelayMs);
      await within(txn.commit(), t, 'EndTxn(commit)');
    } catch (err) {
      txTotal.inc({ result: 'aborted' });
      await within(txn.abort(), t, 'EndTxn(abort)').catch(() => {});
      throw err;
    } finally {
      txOpen.set(txOpen.get() - 1);
    }
    txTotal.inc({ result: 'committed' });
    for (const [user, state] of staged) o.users.set(user, state);
    o.position = last.offset + 1n;
    o.queue = o.queue.filter((m) => m.offset > last.offset);
    recordsIn.inc({}, take.length);
    recordsOut.inc({ kind: 'attribution' }, outputs);
    recordsOut.inc({ kind: 'state' }, staged.size);
    recordsOut.inc({ kind: 'dlq' }, dlq.length);
    for (const r of dlqReasons) dlqTotal.inc({ reason: r });
    batchLatency.observe((performance.now() - started) / 1000);
  };

  let running = true;
  let serving = false;
  const stopController = new AbortController();

  const tick = async (s: Session) => {
    if (s.assignmentChanged && s.assigned !== null) {
      s.assignmentChanged = false;
      const want = new Set<number>(s.assigned);
      for (const p of [...owned.keys()]) if (!want.has(p)) await drop(p, 'revoked');
    }
    // Take over what is assigned but not owned: new assignments, and partitions dropped after a failure.
    const now = Date.now();
    const missing = (s.assigned ?? []).filter((p) => {
      const f = fenced.get(p);
      // Wait for the group's next assignment, but not forever: if none comes within a session timeout, we still own
      // it (a rebalance we took for a loss) and take it back.
      const blocked = f !== undefined && f.generation >= generation && f.until > now;
      return !owned.has(p) && !blocked && (notBefore.get(p) ?? 0) <= now;
    });
    if (missing.length > 0) {
      try {
        await takeOver(s, missing);
        s.takeoverFailures = 0;
      } catch (err) {
        log('takeover failed; will retry', { partitions: missing, ...errorFields(err) });
        for (const p of missing) notBefore.set(p, Date.now() + 1_000);
        // @platformatic/kafka 1.35 keeps asking a group coordinator that moved (a rolling restart) for the committed
        // offsets, for as long as the session lives: after a few failures in a row, a new session (a new client)
        // finds the coordinator again.
        if (++s.takeoverFailures >= 3 && s.failed === undefined) {
          s.failed = err;
          log('takeover failed 3 times in a row; the session ends and a new one starts', { session: s.n });
        }
      }
    }
    owned_.set(owned.size);
    const batch = s.incoming.take();
    for (const m of batch) {
      const o = owned.get(m.partition);
      if (!o) {
        hold(m.partition, [m]);
        continue;
      }
      if (m.offset <= o.lastQueued) continue;
      o.lastQueued = m.offset;
      o.queue.push(m);
    }
    await Promise.all(
      [...owned.values()]
        .filter((o) => o.queue.length > 0)
        .map(async (o) => {
          try {
            await processPartition(s, o);
          } catch (err) {
            log('batch failed; partition will be taken over again', {
              partition: o.partition,
              fenced: isFencingError(err),
              detail: errorText(err).slice(0, 1500),
            });
            if (isFencingError(err)) fenced.set(o.partition, { generation: o.generation, until: Date.now() + 12_000 });
            notBefore.set(o.partition, Date.now() + 500);
            await drop(o.partition, 'batch failed');
          }
        }),
    );
  };

  // A status line every 10 s: enough to see a stalled partition in the log without a metrics scraper.
  const statusTimer = setInterval(() => {
    log('status', {
      owned: Object.fromEntries(
        [...owned.values()].map((o) => [o.partition, { position: String(o.position), queued: o.queue.length }]),
      ),
      held: Object.fromEntries([...held].map(([p, m]) => [p, m.length])),
      incoming: session?.incoming.size ?? 0,
      session: session?.n ?? 0,
      recordsIn: recordsIn.get(),
      txOpen: txOpen.get(),
    });
  }, 10_000);
  statusTimer.unref();

  const lagTimer = setInterval(() => {
    const consumer = session?.consumer;
    if (owned.size === 0 || consumer === undefined) return;
    consumer
      .listOffsets({ topics: [cfg.inputTopic], isolationLevel: 1 })
      .then((offsets) => {
        const ends = offsets.get(cfg.inputTopic) ?? [];
        lagGauge.reset();
        for (const o of owned.values()) {
          const end = ends[o.partition];
          if (end !== undefined)
            lagGauge.set(Number(end - (o.position < 0n ? 0n : o.position)), { partition: String(o.partition) });
        }
      })
      .catch(() => {});
  }, 2_000);
  lagTimer.unref();

  // The first session is part of starting: a process that cannot join its group at all fails to start.
  session = await openSession();
  log('session started', { session: session.n, bootstrap: rotate(bootstrap, session.n) });
  let failedOpens = 0;
  const loop = (async () => {
    serving = true;
    while (running) {
      const started = Date.now();
      if (session === undefined) {
        try {
          session = await openSession();
          failedOpens = 0;
          log('session started', { session: session.n, bootstrap: rotate(bootstrap, session.n) });
        } catch (err) {
          failedOpens++;
          log('session failed to start; retrying', { attempt: failedOpens, ...errorFields(err) });
          await pause(Math.min(5_000, 250 * 2 ** Math.min(failedOpens, 5)), stopController.signal);
          continue;
        }
      }
      const s = session;
      if (s.failed !== undefined) {
        session = undefined;
        await closeSession(s, 'session ended');
        await pause(500, stopController.signal);
        continue;
      }
      try {
        await tick(s);
      } catch (err) {
        log('tick failed', errorFields(err));
      }
      await pause(Math.max(0, cfg.batchMs - (Date.now() - started)), stopController.signal);
    }
  })();

  const status = await startStatusServer({
    port: cfg.metricsPort,
    registry: metrics,
    healthy: () => serving && running,
  });
  log('ready', {
    metricsPort: status.port,
    input: cfg.inputTopic,
    output: cfg.outputTopic,
    partitions: inputPartitions,
  });

  return {
    metricsPort: status.port,
    async stop() {
      running = false;
      stopController.abort();
      await loop;
      clearInterval(lagTimer);
      clearInterval(statusTimer);
      const s = session;
      session = undefined;
      if (s) await closeSession(s, 'stopping');
      else for (const p of [...owned.keys()]) await drop(p, 'stopping');
      await status.close();
    },
  };
}
