/**
 * The attributor's configuration, its hooks (what a modified build changes without forking the loop), and the types
 * its modules share.
 */
import type { CompressionAlgorithmValue, Message, Producer } from '@platformatic/kafka';
import type { CommonConfig } from '../common/config.ts';
import type { AttributionRecord, ResolvedAttributionOptions, UserState } from '../model/index.ts';

export interface AttributorConfig extends CommonConfig {
  changelogTopic: string;
  /** Micro-batch interval, ms (default 100). */
  batchMs: number;
  /** Most records of one partition in one transaction (default 5000). */
  batchMax: number;
  restoreTimeoutMs: number;
  /** Longest any single transaction step may take before the batch is failed (default 30000). */
  txTimeoutMs: number;
  /** Compression of every batch the transactional producers send (attributions, changelog, DLQ). */
  compression: CompressionAlgorithmValue;
  options: ResolvedAttributionOptions;
}

/** The batch a hook is called for. */
export interface BatchInfo {
  /** The input partition (one transaction per partition and micro-batch). */
  partition: number;
  /** The batch's last input offset. */
  lastOffset: bigint;
}

/**
 * Hooks of the attributor's micro-batch, for builds that change it (a fault-injection aid, a deliberately broken
 * build in a test fixture) without forking the loop. None is set by default.
 */
export interface AttributorHooks {
  /** The batch's attribution records, before the transactional send: returns the records sent instead. */
  transformOutputs?(records: readonly AttributionRecord[], batch: BatchInfo): readonly AttributionRecord[];
  /** Awaited inside the transaction, after its sends and offset commit, just before EndTxn(commit). */
  beforeCommit?(batch: BatchInfo): Promise<void> | void;
}

/** Key of the restore marker in the changelog (never a user id: user ids are "u" + 7 digits). */
export const RESTORE_MARKER_KEY = '__streamproof_restore__';

export type Msg = Message<Buffer, Buffer, Buffer, Buffer>;

/** An input partition this process owns. */
export interface Owned {
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

export async function closeQuietly(client: { close(force?: boolean): Promise<void> }): Promise<void> {
  try {
    await client.close(true);
  } catch {
    // closing a client that failed (fenced, broker gone) may fail again; there is nothing left to release
  }
}
