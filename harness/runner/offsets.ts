/**
 * How far a consumer group has got through a topic: the topic's end offsets and the group's committed offsets,
 * read with the harness's own admin client. OffsetFetch works the same for every client and group protocol (classic
 * or KIP-848), and offsets committed inside a transaction only show once it commits, so "committed" means "done".
 *
 * The lag sampler and the drain read it once a second or more often while brokers are killed, paused and restarted,
 * so the client is a `ResilientAdmin`: a failed call asks for fresh metadata, two in a row replace the client, which
 * then bootstraps at another broker (a dead first bootstrap broker would otherwise block every new connection).
 */
import { Admin } from '@platformatic/kafka';
import { type Bootstrap, bootstrapList, clusterBootstrap, rotate } from '../kafka/clients.ts';
import { securityFor } from '../kafka/security.ts';

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
  // Admin.listConsumerGroupOffsets (@platformatic/kafka 1.35) throws outside any callback, crashing the process, when
  // the group's coordinator is a broker missing from its cached metadata (one just restarted). So: fresh metadata,
  // the coordinator looked up first, and the read refused while it is not in the metadata yet.
  const md = await a.metadata({ topics: [], forceUpdate: true });
  const coordinators = await a.findCoordinator({ keyType: 0, keys: [group] });
  const missing = coordinators.find((c) => !md.brokers.has(c.nodeId));
  if (missing !== undefined) {
    throw new Error(`the coordinator of group ${group} (broker ${missing.nodeId}) is not in the metadata yet`);
  }
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
    for (const t of g.topics) {
      for (const p of t.partitions) if (p.committedOffset >= 0n) committed.set(p.partitionIndex, p.committedOffset);
    }
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

/** An admin client for repeated calls through broker faults (see the module header). */
export class ResilientAdmin {
  #bootstrap: string[];
  #resolved = false;
  #admin: Admin | undefined;
  #generation = 0;
  #failuresInARow = 0;
  #closing: Promise<unknown>[] = [];
  reconnects = 0;

  constructor(
    bootstrap: Bootstrap,
    readonly clientId: string,
    /** Request timeout (default 3000 ms): a call to a dead broker fails fast and the next one asks another. */
    readonly timeoutMs = 3000,
  ) {
    this.#bootstrap = bootstrapList(bootstrap);
  }

  /** Runs `fn` with the current client; a failure is counted (and rethrown) as described in the module header. */
  async use<T>(fn: (a: Admin) => Promise<T>): Promise<T> {
    if (!this.#resolved) {
      this.#bootstrap = await clusterBootstrap(this.#bootstrap, this.clientId);
      this.#resolved = true;
    }
    this.#admin ??= this.#make();
    const a = this.#admin;
    try {
      const out = await fn(a);
      this.#failuresInARow = 0;
      return out;
    } catch (err) {
      this.#failuresInARow++;
      a.clearMetadata();
      if (this.#failuresInARow >= 2 && this.#admin === a) {
        this.#closing.push(a.close().catch(() => undefined));
        this.#generation++;
        this.reconnects++;
        this.#failuresInARow = 0;
        this.#admin = undefined;
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    // Not closeNow(): Admin.close takes a callback, not a force flag.
    await this.#admin?.close().catch(() => undefined);
    await Promise.all(this.#closing);
  }

  #make(): Admin {
    return new Admin({
      clientId: this.clientId,
      bootstrapBrokers: rotate(this.#bootstrap, this.#generation),
      ...securityFor(this.#bootstrap),
      retries: 1,
      retryDelay: 200,
      timeout: this.timeoutMs,
      connectTimeout: Math.min(this.timeoutMs, 3000),
    });
  }
}
