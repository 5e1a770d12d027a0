/**
 * Taking over an input partition: the fence (a transaction of the partition's own transactional id, which bumps the
 * epoch and so fences and aborts the previous owner's, committing a unique marker to the changelog), then the restore
 * (read the changelog, read_committed, up to that marker).
 */
import { randomUUID } from 'node:crypto';
import { Consumer, type GroupPartitionsAssigner, type Producer } from '@platformatic/kafka';
import { guarded, headerValue } from '../common/kafka.ts';
import { within } from '../common/lifecycle.ts';
import { deserializeState } from '../model/index.ts';
import { GROUP_HEADER, INPUT_OFFSET_HEADER } from './batch-plan.ts';
import { type AttributorConfig, closeQuietly, type Msg, type Owned, RESTORE_MARKER_KEY } from './config.ts';

/** Fences partition `p`'s previous owner with `producer` and commits a restore marker; returns the marker. */
export async function fence(cfg: AttributorConfig, producer: Producer, p: number): Promise<string> {
  const nonce = randomUUID();
  // beginTransaction runs InitProducerId for `${transactionalId}-p${p}`: the fence.
  const txn = await within(producer.beginTransaction(), cfg.txTimeoutMs, `fence p${p}`);
  await txn.send({
    messages: [
      { topic: cfg.changelogTopic, partition: p, key: Buffer.from(RESTORE_MARKER_KEY), value: Buffer.from(nonce) },
    ],
  });
  await txn.commit();
  return nonce;
}

/** What a restore read and rebuilt. */
export interface Restored {
  users: number;
  /** Changelog records read (markers included). */
  records: number;
}

/**
 * The restore reader's assignment: only the changelog partitions being taken over, never the whole topic (its own
 * one-member group would otherwise be given every partition, and a restore would read every other owner's state).
 */
export function onlyPartitions(topic: string, partitions: number[]): GroupPartitionsAssigner {
  return (current, members) =>
    [...members.keys()].map((memberId) => ({
      memberId,
      assignments: new Map([[topic, { topic, partitions: memberId === current ? [...partitions] : [] }]]),
    }));
}

/**
 * Reads the changelog (read_committed) until every partition's marker (`nonces`), into each partition's `users`;
 * returns the number of users restored and of records read.
 */
export async function restore(
  cfg: AttributorConfig,
  bootstrap: string[],
  nonces: Map<number, string>,
  into: Map<number, Owned>,
): Promise<Restored> {
  const reader = guarded(
    new Consumer<Buffer, Buffer, Buffer, Buffer>({
      clientId: `streamproof-attributor-${cfg.instance}-restore`,
      groupId: `${cfg.groupId}-restore-${randomUUID()}`,
      bootstrapBrokers: bootstrap,
      timeout: 30_000,
      retries: 10,
      retryDelay: 250,
      maxWaitTime: 100,
      isolationLevel: 1,
      partitionAssigner: onlyPartitions(cfg.changelogTopic, [...nonces.keys()]),
    }),
  );
  const pending = new Set(nonces.keys());
  let users = 0;
  let records = 0;
  // Per partition and user (a user's state lives in the partition its events came in on): the text of the latest
  // state record written at an input offset below the committed position, parsed once the restore has read it all.
  // Records at or past it belong to transactions that did not commit (we must not trust the client's read_committed
  // filter alone: @platformatic/kafka 1.35 lets records of an aborted transaction through when the abort marker is
  // not in the same fetch response, or when one producer id aborted twice in it). An aborted record below the
  // position is always followed in the log by the committed rewrite of the same user (the retry reprocessed the
  // same events from the same state), so "latest below the position" is the committed state.
  const latest = new Map<number, Map<string, string | null>>([...nonces.keys()].map((p) => [p, new Map()]));
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
        records++;
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
        // Only the latest state of a user counts, and most records read are superseded later in the log: keep its
        // text (a copy, not a view that would pin the whole fetch response) and parse once per user at the end.
        const text = m.value === null || m.value === undefined || m.value.length === 0 ? null : m.value.toString();
        latest.get(m.partition)!.set(key, text);
      }
    } finally {
      clearTimeout(timer);
      await s.close().catch(() => {});
    }
    if (pending.size > 0) throw new Error(`changelog restore ended early (partitions ${[...pending].join(', ')})`);
    for (const [p, texts] of latest) {
      const target = into.get(p)!.users;
      for (const [key, text] of texts) {
        if (text === null) target.delete(key);
        else target.set(key, deserializeState(text));
      }
    }
    for (const p of nonces.keys()) users += into.get(p)!.users.size;
    return { users, records };
  } finally {
    await closeQuietly(reader);
  }
}
