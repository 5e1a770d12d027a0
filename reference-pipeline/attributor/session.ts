/**
 * The attributor's Kafka clients: a consumer session (the group member, its stream and what it delivered), a
 * partition's transactional producer, and the transaction that writes one micro-batch.
 */
import { Consumer, Producer } from '@platformatic/kafka';
import { bufferMessages, chunkBySize, guarded, transactionRetryDelay } from '../common/kafka.ts';
import { within } from '../common/lifecycle.ts';
import { errorFields, type Logger } from '../common/log.ts';
import type { Out } from './batch-plan.ts';
import { type AttributorConfig, closeQuietly, type Msg } from './config.ts';

/**
 * One consumer session: the group member, its stream and what it delivered. `failed` is set when the stream dies;
 * the loop then ends the session and opens a new one.
 */
export interface Session {
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

/**
 * Joins the group and starts consuming the input topic. `onJoin(session, generation)` is called on every join
 * before the assignment is taken; it returns false when the session is no longer the current one (then ignored).
 */
export async function startSession(
  cfg: AttributorConfig,
  bootstrap: string[],
  n: number,
  log: Logger,
  onJoin: (s: Session, generation: number) => boolean,
): Promise<Session> {
  const consumer = guarded(
    new Consumer<Buffer, Buffer, Buffer, Buffer>({
      clientId: `streamproof-attributor-${cfg.instance}`,
      groupId: cfg.groupId,
      bootstrapBrokers: bootstrap,
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
    if (!onJoin(s, p.generationId ?? consumer.generationId)) return;
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
  return s;
}

/** Partition `p`'s transactional producer: transactional id `${transactionalId}-p${p}`. */
export function transactionalProducer(cfg: AttributorConfig, bootstrap: string[], p: number): Producer {
  return guarded(
    new Producer({
      clientId: `streamproof-attributor-${cfg.instance}-p${p}`,
      bootstrapBrokers: bootstrap,
      transactionalId: `${cfg.transactionalId}-p${p}`,
      // InitProducerId as a *new* producer (-1/-1). The client's default (0/0) reads to the broker as "producer 0,
      // epoch 0 bumping itself", which a coordinator that knows this transactional id refuses as fenced: a second
      // owner could then never take over.
      producerId: -1n,
      producerEpoch: -1,
      idempotent: true,
      acks: -1,
      retries: 10,
      retryDelay: transactionRetryDelay(250),
      timeout: 30_000,
      compression: cfg.compression,
    }),
  );
}

/**
 * One micro-batch's transaction: sends `out`, commits the input offset after `last` with the consumer's group
 * generation, awaits `beforeCommit`, commits. On any failure it aborts and rethrows. `open` counts open transactions.
 */
export async function commitBatch(
  cfg: AttributorConfig,
  producer: Producer,
  consumer: Consumer<Buffer, Buffer, Buffer, Buffer>,
  out: Out[],
  last: Msg,
  beforeCommit: () => Promise<void> | void,
  open: { get(): number; set(v: number): void },
): Promise<void> {
  const t = cfg.txTimeoutMs;
  const txn = await within(producer.beginTransaction(), t, 'beginTransaction');
  open.set(open.get() + 1);
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
    await beforeCommit();
    await within(txn.commit(), t, 'EndTxn(commit)');
  } catch (err) {
    await within(txn.abort(), t, 'EndTxn(abort)').catch(() => {});
    throw err;
  } finally {
    open.set(open.get() - 1);
  }
}
