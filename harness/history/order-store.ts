/**
 * OrderStore: per-user order of the output, checked as it is read, in memory proportional to users (not events).
 *
 * Model: Kafka orders records within a partition, and the pipeline keys by user, so each user's records must come
 * out of their partition with `userSeq` strictly increasing. The store keeps, per (partition, user), the `userSeq`
 * of the last *first sighting* and records a violation when a first sighting's `userSeq` is not greater than it
 * (backwards, or equal: two distinct events cannot share a user_seq). Re-deliveries of an already-seen event are
 * not fed in (the caller passes first sightings only): repeating an old seq is a duplicate (`duplicated`), not a
 * reorder. Gaps (a lost event) are not order violations either: `lost` reports them.
 *
 * Merging assumes each partition was read by one worker (a consumer group's assignment). If both stores read the
 * same partition their interleaving is unknown, so the partition is recorded in `overlappingPartitions` and the
 * order checker answers `unknown` for it rather than guessing.
 */

import { StreamproofError } from '../util/errors.ts';

export interface OrderViolation {
  readonly userId: string;
  readonly partition: number;
  readonly offset: number;
  readonly eventId: string;
  readonly userSeq: number;
  /** The userSeq last seen for this user on this partition (>= userSeq). */
  readonly previousUserSeq: number;
  readonly time: number;
}

export interface OrderStoreOptions {
  /** Violations kept as examples. Default 1000. */
  readonly maxViolations?: number;
}

export interface OrderStoreJson {
  readonly maxViolations: number;
  /** partition -> user -> last userSeq. */
  readonly lastSeq: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly violations: readonly OrderViolation[];
  readonly violationCount: number;
  readonly overlappingPartitions: readonly number[];
  readonly unkeyed: number;
}

export class OrderStore {
  readonly maxViolations: number;
  readonly #lastSeq = new Map<number, Map<string, number>>();
  readonly #violations: OrderViolation[] = [];
  #violationCount = 0;
  readonly #overlapping = new Set<number>();
  #unkeyed = 0;

  constructor(options: OrderStoreOptions = {}) {
    this.maxViolations = options.maxViolations ?? 1000;
  }

  /** Feed the first sighting of each event, in consumption order. */
  observe(partition: number, userId: string, userSeq: number, eventId: string, offset: number, time: number): void {
    let users = this.#lastSeq.get(partition);
    if (users === undefined) {
      users = new Map();
      this.#lastSeq.set(partition, users);
    }
    const previous = users.get(userId);
    if (previous !== undefined && userSeq <= previous) {
      this.#violationCount++;
      if (this.#violations.length < this.maxViolations) {
        this.#violations.push({ userId, partition, offset, eventId, userSeq, previousUserSeq: previous, time });
      }
      // Keep the high-water mark: a single late record is one violation, not a cascade.
      return;
    }
    users.set(userId, userSeq);
  }

  /** A record without a key cannot be attributed to a user; counted so a report can say so. */
  observeUnkeyed(): void {
    this.#unkeyed++;
  }

  get violations(): readonly OrderViolation[] {
    return this.#violations;
  }

  get violationCount(): number {
    return this.#violationCount;
  }

  get overlappingPartitions(): number[] {
    return [...this.#overlapping].sort((a, b) => a - b);
  }

  get unkeyed(): number {
    return this.#unkeyed;
  }

  get partitions(): number[] {
    return [...this.#lastSeq.keys()].sort((a, b) => a - b);
  }

  /** Distinct users seen. */
  userCount(): number {
    return this.#userPartitions().size;
  }

  /** Users whose records came out of more than one partition (keying broken, or the partition count changed). */
  usersOnSeveralPartitions(): string[] {
    const out: string[] = [];
    for (const [user, n] of this.#userPartitions()) if (n > 1) out.push(user);
    return out.sort();
  }

  merge(other: OrderStore): this {
    for (const [partition, theirs] of other.#lastSeq) {
      const mine = this.#lastSeq.get(partition);
      if (mine === undefined) {
        this.#lastSeq.set(partition, new Map(theirs));
        continue;
      }
      this.#overlapping.add(partition);
      for (const [user, seq] of theirs) mine.set(user, Math.max(seq, mine.get(user) ?? seq));
    }
    for (const p of other.#overlapping) this.#overlapping.add(p);
    this.#violationCount += other.#violationCount;
    for (const v of other.#violations) {
      if (this.#violations.length >= this.maxViolations) break;
      this.#violations.push(v);
    }
    this.#unkeyed += other.#unkeyed;
    return this;
  }

  toJSON(): OrderStoreJson {
    const lastSeq: Record<string, Record<string, number>> = {};
    for (const p of this.partitions) lastSeq[String(p)] = Object.fromEntries(this.#lastSeq.get(p)!);
    return {
      maxViolations: this.maxViolations,
      lastSeq,
      violations: [...this.#violations],
      violationCount: this.#violationCount,
      overlappingPartitions: this.overlappingPartitions,
      unkeyed: this.#unkeyed,
    };
  }

  static fromJSON(json: unknown, path = 'order'): OrderStore {
    const j = json as Record<string, unknown> | null;
    if (
      j === null ||
      typeof j !== 'object' ||
      typeof j.maxViolations !== 'number' ||
      typeof j.lastSeq !== 'object' ||
      j.lastSeq === null ||
      !Array.isArray(j.violations) ||
      typeof j.violationCount !== 'number' ||
      !Array.isArray(j.overlappingPartitions) ||
      typeof j.unkeyed !== 'number'
    ) {
      throw StreamproofError.at(
        'HISTORY_INVALID_JSON',
        'expected { maxViolations, lastSeq, violations, violationCount, overlappingPartitions, unkeyed }',
        { path },
      );
    }
    const store = new OrderStore({ maxViolations: j.maxViolations });
    for (const [p, users] of Object.entries(j.lastSeq as Record<string, unknown>)) {
      if (typeof users !== 'object' || users === null) {
        throw StreamproofError.at('HISTORY_INVALID_JSON', 'expected an object of user -> userSeq', {
          path: `${path}.lastSeq.${p}`,
        });
      }
      store.#lastSeq.set(Number(p), new Map(Object.entries(users as Record<string, number>)));
    }
    store.#violations.push(...(j.violations as OrderViolation[]));
    store.#violationCount = j.violationCount;
    for (const p of j.overlappingPartitions as number[]) store.#overlapping.add(p);
    store.#unkeyed = j.unkeyed;
    return store;
  }

  #userPartitions(): Map<string, number> {
    const n = new Map<string, number>();
    for (const users of this.#lastSeq.values()) for (const u of users.keys()) n.set(u, (n.get(u) ?? 0) + 1);
    return n;
  }
}
