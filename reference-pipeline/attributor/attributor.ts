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
import { EventDecoder } from '../common/event-codec.ts';
import { startStatusServer } from '../common/http.ts';
import { discoverBootstrap, ensureTopics, errorText, isFencingError, rotate } from '../common/kafka.ts';
import { pause, startWithin, turnTaker, within } from '../common/lifecycle.ts';
import { errorFields, type Logger } from '../common/log.ts';
import { Registry } from '../common/metrics.ts';
import { SchemaRegistryClient } from '../common/registry.ts';
import { type DecodedInput, type PlanContext, planBatch, planMessages, selectBatch } from './batch-plan.ts';
import { type AttributorConfig, type AttributorHooks, closeQuietly, type Msg, type Owned } from './config.ts';
import { fence, restore } from './restore.ts';
import { commitBatch, type Session, startSession, transactionalProducer } from './session.ts';

export { GROUP_HEADER, INPUT_OFFSET_HEADER } from './batch-plan.ts';
export type { AttributorConfig, AttributorHooks, BatchInfo } from './config.ts';
export { RESTORE_MARKER_KEY } from './config.ts';

export interface StartedAttributor {
  readonly metricsPort: number;
  stop(): Promise<void>;
}

export async function startAttributor(
  cfg: AttributorConfig,
  log: Logger,
  hooks: AttributorHooks = {},
): Promise<StartedAttributor> {
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
        // Segments of 64 MiB (the broker default is 1 GiB): compaction never cleans the active segment, and a
        // restore reads what compaction has not cleaned yet.
        configs: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '60000', 'segment.bytes': String(64 << 20) },
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
    const s = await startSession(cfg, rotate(bootstrap, n), n, log, (s, joined) => {
      if (session !== s && session !== undefined) return false;
      generation = joined;
      return true;
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

  const newProducer = (p: number) => transactionalProducer(cfg, rotate(bootstrap, p), p);

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
          const nonce = await fence(cfg, producer, p);
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
      const restoreStart = Date.now();
      const restored = await restore(cfg, rotate(bootstrap, sessions), nonces, fresh);
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
      restoredUsers.inc({}, restored.users);
      log('partitions taken over', {
        partitions,
        users: restored.users,
        changelogRecords: restored.records,
        restoreMs: Date.now() - restoreStart,
        positions: Object.fromEntries(partitions.map((p) => [p, String(fresh.get(p)!.position)])),
      });
    } catch (err) {
      for (const o of fresh.values()) if (!owned.has(o.partition)) await closeQuietly(o.producer);
      throw err;
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

  const planContext: PlanContext = {
    outputTopic: cfg.outputTopic,
    changelogTopic: cfg.changelogTopic,
    dlqTopic: cfg.dlqTopic,
    groupId: cfg.groupId,
    options: cfg.options,
  };

  // Planning a batch is synchronous: with users past the touch cap, 5 000 events take 0.3 s on an idle core and
  // seconds on a loaded one (scripts/plan-cost.mts). A backlog's full batches on three partitions in one turn held the
  // consumer's heartbeats past the session timeout, and the coordinator expelled the member. Partitions plan one per
  // turn of the event loop.
  const inOwnTurn = turnTaker();

  const processPartition = async (s: Session, o: Owned) => {
    const consumer = s.consumer;
    const take = selectBatch(o.queue, o.position, cfg.batchMax);
    if (take.length === 0) {
      o.queue = [];
      return;
    }
    const last = take[take.length - 1]!;
    const started = performance.now();
    const inputs: DecodedInput[] = await Promise.all(
      take.map(async (m) => ({ ...m, decoded: await decoder.decode(m.value) })),
    );
    const batch = { partition: o.partition, lastOffset: last.offset };
    const { plan, attributions, out } = await inOwnTurn(() => {
      const plan = planBatch(inputs, () => o.users, planContext)[0]!;
      const attributions = hooks.transformOutputs?.(plan.attributions, batch) ?? plan.attributions;
      return { plan, attributions, out: planMessages(plan, planContext, attributions) };
    });
    try {
      await commitBatch(cfg, o.producer, consumer, out, last, () => hooks.beforeCommit?.(batch), txOpen);
    } catch (err) {
      txTotal.inc({ result: 'aborted' });
      throw err;
    }
    txTotal.inc({ result: 'committed' });
    for (const [user, state] of plan.states) o.users.set(user, state);
    o.position = plan.commitOffset;
    o.queue = o.queue.filter((m) => m.offset > last.offset);
    recordsIn.inc({}, take.length);
    recordsOut.inc({ kind: 'attribution' }, attributions.length);
    recordsOut.inc({ kind: 'state' }, plan.states.size);
    recordsOut.inc({ kind: 'dlq' }, plan.dlq.length);
    for (const r of plan.dlqReasons) dlqTotal.inc({ reason: r });
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

  // The first session is part of starting: a process that cannot join its group within 60 s fails to start (a broker
  // or coordinator down at that moment, a fault or a rolling restart, is ridden out meanwhile).
  session = await startWithin(openSession, 60_000, (err, attempt) =>
    log('first session failed to start; retrying', { attempt, ...errorFields(err) }),
  );
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
