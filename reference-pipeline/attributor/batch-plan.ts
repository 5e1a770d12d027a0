/**
 * What one micro-batch of the attributor does, decided without I/O: which queued records of a partition it takes,
 * and, for the decoded records taken, the attribution records, the changed users' states (the changelog), the DLQ
 * records and the offset to commit, per input partition. The attributor (attributor.ts) does the I/O around it:
 * decoding, the transaction that writes what the plan says, and advancing its in-memory state once it committed.
 */
import type { Decoded } from '../common/event-codec.ts';
import { headers } from '../common/kafka.ts';
import {
  type AttributionInput,
  type AttributionRecord,
  applyEvent,
  createUserState,
  type ResolvedAttributionOptions,
  serializeState,
  type UserState,
} from '../model/index.ts';

/** Header of every changelog record: the last input offset of the batch that wrote it (decimal). */
export const INPUT_OFFSET_HEADER = 'streamproof-input-offset';
/** Header of every changelog record: the consumer group whose offsets the input offset refers to. */
export const GROUP_HEADER = 'streamproof-group';

/** A record to produce. */
export type Out = { topic: string; key: Buffer; value: Buffer; partition?: number; headers?: Map<Buffer, Buffer> };

/** An input record as consumed, with its decoded value. */
export interface DecodedInput {
  topic: string;
  partition: number;
  offset: bigint;
  key: Buffer | null | undefined;
  value: Buffer | null | undefined;
  decoded: Decoded;
}

export interface PlanContext {
  outputTopic: string;
  changelogTopic: string;
  dlqTopic: string;
  groupId: string;
  options: ResolvedAttributionOptions;
}

/** What one partition's batch writes in its transaction, and what the attributor keeps once it committed. */
export interface PartitionPlan {
  partition: number;
  /** Input records of the batch. */
  records: number;
  /** The attribution records, in input order (to the output topic, key user_id). */
  attributions: AttributionRecord[];
  /** The changed users' new states (to keep in memory after the commit). */
  states: Map<string, UserState>;
  /** Their changelog records (partition = the input partition). */
  changelog: Out[];
  /** Undecodable, invalid and late records, with the reason in headers. */
  dlq: Out[];
  dlqReasons: string[];
  /** The batch's last input offset; the offset committed for the partition is `lastOffset + 1`. */
  lastOffset: bigint;
  commitOffset: bigint;
}

/** The records the next batch of a partition takes: those at or past `position` (-1: all), at most `batchMax`. */
export function selectBatch<M extends { offset: bigint }>(
  queue: readonly M[],
  position: bigint,
  batchMax: number,
): M[] {
  return queue.filter((m) => position < 0n || m.offset >= position).slice(0, batchMax);
}

function dlqRecord(
  ctx: PlanContext,
  m: DecodedInput,
  reason: string,
  kind: string,
  message: string,
  value?: Buffer,
): Out {
  return {
    topic: ctx.dlqTopic,
    key: m.key ?? Buffer.alloc(0),
    value: value ?? m.value ?? Buffer.alloc(0),
    headers: headers({
      'streamproof-dlq-source': 'attributor',
      'streamproof-dlq-kind': kind,
      'streamproof-dlq-reason': reason,
      'streamproof-dlq-message': message.slice(0, 1000),
      'streamproof-dlq-origin': `${m.topic}/${m.partition}/${m.offset}`,
    }),
  };
}

/**
 * Folds each partition's records (in the order given) through the model, from `usersOf(partition)` (not modified).
 * Returns one plan per partition that has records, by partition.
 */
export function planBatch(
  records: readonly DecodedInput[],
  usersOf: (partition: number) => ReadonlyMap<string, UserState>,
  ctx: PlanContext,
): PartitionPlan[] {
  const byPartition = new Map<number, DecodedInput[]>();
  for (const r of records) {
    const list = byPartition.get(r.partition);
    if (list) list.push(r);
    else byPartition.set(r.partition, [r]);
  }
  return [...byPartition.keys()]
    .sort((a, b) => a - b)
    .map((p) => planPartition(p, byPartition.get(p)!, usersOf(p), ctx));
}

function planPartition(
  partition: number,
  take: readonly DecodedInput[],
  users: ReadonlyMap<string, UserState>,
  ctx: PlanContext,
): PartitionPlan {
  const states = new Map<string, UserState>();
  const attributions: AttributionRecord[] = [];
  const dlq: Out[] = [];
  const dlqReasons: string[] = [];
  let last = take[0]!.offset;
  for (const m of take) {
    if (m.offset > last) last = m.offset;
    const d = m.decoded;
    if (!d.ok) {
      dlq.push(dlqRecord(ctx, m, d.reason, 'undecodable', d.message));
      dlqReasons.push(d.reason);
      continue;
    }
    const e = d.event;
    const before = states.get(e.user_id) ?? users.get(e.user_id) ?? createUserState();
    const r = applyEvent(before, e as AttributionInput, ctx.options);
    if (r.state !== before) states.set(e.user_id, r.state);
    attributions.push(...r.outputs);
    if (r.rejection !== null) {
      const { reason, kind, message } = r.rejection;
      dlq.push(dlqRecord(ctx, m, reason, kind, message, Buffer.from(JSON.stringify(e))));
      dlqReasons.push(reason);
    }
  }
  const tag = headers({ [INPUT_OFFSET_HEADER]: String(last), [GROUP_HEADER]: ctx.groupId });
  const changelog: Out[] = [...states].map(([user, state]) => ({
    topic: ctx.changelogTopic,
    partition,
    key: Buffer.from(user),
    value: Buffer.from(serializeState(state)),
    headers: tag,
  }));
  return {
    partition,
    records: take.length,
    attributions,
    states,
    changelog,
    dlq,
    dlqReasons,
    lastOffset: last,
    commitOffset: last + 1n,
  };
}

/** The records a plan's transaction sends, in order: attributions (or the ones given), changelog, DLQ. */
export function planMessages(
  plan: PartitionPlan,
  ctx: Pick<PlanContext, 'outputTopic'>,
  attributions: readonly AttributionRecord[] = plan.attributions,
): Out[] {
  return [
    ...attributions.map((rec) => ({
      topic: ctx.outputTopic,
      key: Buffer.from(rec.user_id),
      value: Buffer.from(JSON.stringify(rec)),
    })),
    ...plan.changelog,
    ...plan.dlq,
  ];
}
