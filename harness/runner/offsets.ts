/**
 * How far a consumer group has got through a topic: the topic's end offsets and the group's committed offsets,
 * read with the harness's own admin client. OffsetFetch works the same for every client and group protocol (classic
 * or KIP-848), and offsets committed inside a transaction only show once it commits, so "committed" means "done".
 */
import type { Admin } from '@platformatic/kafka';

export interface GroupProgress {
  /** End (latest) offset per partition. */
  readonly end: ReadonlyMap<number, bigint>;
  /** Committed offset per partition; partitions the group never committed are absent. */
  readonly committed: ReadonlyMap<number, bigint>;
  /** Sum over partitions of end - committed (a partition never committed counts from 0: run topics are fresh). */
  readonly lag: number;
  /** Every partition committed at its end. */
  readonly caughtUp: boolean;
}

export async function groupProgress(
  a: Admin,
  group: string,
  topic: string,
  partitions: number,
): Promise<GroupProgress> {
  const indexes = Array.from({ length: partitions }, (_, i) => i);
  const [latest, offsets] = await Promise.all([
    a.listOffsets({
      topics: [{ name: topic, partitions: indexes.map((p) => ({ partitionIndex: p, timestamp: -1n })) }],
    }),
    a.listConsumerGroupOffsets({ groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: indexes }] }] }),
  ]);
  const end = new Map<number, bigint>();
  for (const t of latest) for (const p of t.partitions) end.set(p.partitionIndex, p.offset);
  const committed = new Map<number, bigint>();
  for (const g of offsets) {
    for (const t of g.topics)
      for (const p of t.partitions) if (p.committedOffset >= 0n) committed.set(p.partitionIndex, p.committedOffset);
  }
  let lag = 0n;
  let caughtUp = true;
  for (const p of indexes) {
    const d = (end.get(p) ?? 0n) - (committed.get(p) ?? 0n);
    if (d > 0n) {
      lag += d;
      caughtUp = false;
    }
  }
  return { end, committed, lag: Number(lag), caughtUp };
}
