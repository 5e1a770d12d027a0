/**
 * A member of a consumer group that processes nothing: it joins (the group rebalances and hands it partitions), stays
 * a member by heartbeating (and rejoining when the group rebalances again), and never fetches or commits, so the
 * partitions it owns are only paused; `leave()` gives them back (a second rebalance) and their next owner reads on
 * from the group's committed offsets.
 *
 * - Classic groups (JoinGroup / SyncGroup / Heartbeat / LeaveGroup): the member names the group's own protocol type
 *   and the protocol (assignor) the group chose, with a ConsumerProtocolSubscription v0 to `topic` (no user data, no
 *   owned partitions), which every standard assignor (range, roundrobin, sticky, cooperative-sticky) reads. Elected
 *   leader (every member of the SUT had left, e.g. while it restarts), it assigns as consumer-protocol.ts's
 *   `assignAsLeader`: owned partitions stay, the rest round-robin, which members of any of those assignors accept.
 * - Consumer groups (KIP-848, ConsumerGroupHeartbeat v1): the broker assigns; the member acknowledges whatever it is
 *   given at once (it has nothing to reconcile) and leaves with epoch -1.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Connection,
  consumerGroupHeartbeatV1,
  heartbeatV4,
  joinGroupV9,
  leaveGroupV5,
  metadataV12,
  syncGroupV5,
} from '@platformatic/kafka';
import type { Bootstrap } from './clients.ts';
import { decodeConsumerAssignment } from './consumer-assignment.ts';
import { assignAsLeader, consumerSubscription, decodeSubscription, encodeAssignment } from './consumer-protocol.ts';
import { COORDINATOR_RETRIABLE, connect, findCoordinators, protocolError, send } from './raw.ts';

const ILLEGAL_GENERATION = 22;
const UNKNOWN_MEMBER_ID = 25;
const REBALANCE_IN_PROGRESS = 27;
const MEMBER_ID_REQUIRED = 79;

export interface HarnessMember {
  readonly memberId: string;
  /** Classic: the generation of its last join; consumer groups: its member epoch. */
  readonly generation: number;
  /** Topic -> partitions it owns now (classic: from its last SyncGroup; consumer groups: by topic id). */
  readonly assignment: ReadonlyMap<string, readonly number[]>;
  /** Rebalances it went through after its first join. */
  readonly rejoins: number;
  /** Classic groups: the generations it was elected leader of (every member of the SUT had left at that moment). */
  readonly leads: number;
  /** Why it stopped being a member before `leave()` (evicted, a coordinator that could not be reached), if it did. */
  readonly lost: string | undefined;
  /** Leave the group (idempotent); the heartbeats stop first. */
  leave(): Promise<void>;
}

export interface JoinOptions {
  bootstrap: Bootstrap;
  groupId: string;
  topic: string;
  clientId?: string;
  /** Longest wait for the join (the group's members must all rejoin). Default 60 s. */
  timeoutMs?: number;
  /** Default 1000 ms. */
  heartbeatMs?: number;
}

/** Joins a classic group as a member speaking `protocolType` / `protocol`; resolves once it has its assignment. */
export async function joinClassicGroup(
  opts: JoinOptions & { protocolType: string; protocol: string },
): Promise<HarnessMember> {
  const clientId = opts.clientId ?? 'streamproof-rebalance';
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const sessionTimeoutMs = 10_000;
  const metadata = consumerSubscription([opts.topic]);
  const [c] = await findCoordinators(opts.bootstrap, 0, [opts.groupId], clientId, Date.now() + 10_000);
  if (!c) throw protocolError('FindCoordinator', -1, 'empty answer');
  let conn = await connect(c.host, c.port, clientId, timeoutMs);
  let memberId = '';
  let generation = -1;
  let assignment = new Map<string, number[]>();
  let rejoins = 0;
  let leads = 0;
  let lost: string | undefined;
  let stopped = false;

  // Elected leader (no member of the SUT was in the group when it rebalanced): assign as assignAsLeader says.
  const lead = async (members: { memberId: string; metadata: Buffer | null }[]) => {
    const subs = members.map((m) => ({
      memberId: m.memberId,
      ...(decodeSubscription(m.metadata) ?? { topics: [], owned: new Map<string, number[]>() }),
    }));
    const topics = [...new Set(subs.flatMap((m) => m.topics))];
    const md = await metadataV12.api.async(conn, topics, false, false);
    const counts = new Map(md.topics.flatMap((t) => (t.name ? [[t.name, t.partitions.length] as const] : [])));
    return [...assignAsLeader(subs, counts)].map(([id, a]) => ({ memberId: id, assignment: encodeAssignment(a) }));
  };

  const join = async (): Promise<void> => {
    for (;;) {
      const res = await send(
        conn,
        joinGroupV9.api,
        joinGroupV9.createRequest(
          opts.groupId,
          sessionTimeoutMs,
          30_000,
          memberId,
          null,
          opts.protocolType,
          [{ name: opts.protocol, metadata }],
          'streamproof rebalance fault',
        ),
        (r) => {
          r.readInt32();
          const errorCode = r.readInt16();
          const generationId = r.readInt32();
          r.readNullableString();
          r.readNullableString();
          const leader = r.readString();
          r.readBoolean();
          const id = r.readString();
          const members = r.readArray((m) => ({
            memberId: m.readString(),
            instanceId: m.readNullableString(),
            metadata: m.readNullableBytes(),
          }));
          r.readTaggedFields();
          return { errorCode, generationId, leader, memberId: id, members };
        },
      );
      if (res.memberId) memberId = res.memberId;
      if (res.errorCode === MEMBER_ID_REQUIRED) continue;
      if (res.errorCode !== 0) throw protocolError('JoinGroup', res.errorCode, opts.groupId);
      generation = res.generationId;
      let assignments: { memberId: string; assignment: Buffer }[] = [];
      if (res.leader === memberId) {
        leads++;
        assignments = await lead(res.members);
      }
      const sync = await send(
        conn,
        syncGroupV5.api,
        syncGroupV5.createRequest(
          opts.groupId,
          generation,
          memberId,
          null,
          opts.protocolType,
          opts.protocol,
          assignments,
        ),
        (r) => {
          r.readInt32();
          const errorCode = r.readInt16();
          r.readNullableString();
          r.readNullableString();
          const bytes = r.readBytes();
          r.readTaggedFields();
          return { errorCode, bytes };
        },
      );
      if (sync.errorCode === REBALANCE_IN_PROGRESS) continue;
      if (sync.errorCode !== 0) throw protocolError('SyncGroup', sync.errorCode, opts.groupId);
      assignment = decodeConsumerAssignment(sync.bytes) ?? new Map();
      return;
    }
  };

  const leaveNow = async (): Promise<void> => {
    if (!memberId) return;
    const res = await send(
      conn,
      leaveGroupV5.api,
      leaveGroupV5.createRequest(opts.groupId, [
        { memberId, groupInstanceId: null, reason: 'streamproof rebalance fault healed' },
      ]),
      (r) => {
        r.readInt32();
        const errorCode = r.readInt16();
        const members = r.readArray((m) => {
          m.readNullableString();
          m.readNullableString();
          return m.readInt16();
        });
        r.readTaggedFields();
        return { errorCode, member: members[0] ?? 0 };
      },
    );
    const code = res.errorCode || res.member;
    if (code !== 0 && code !== UNKNOWN_MEMBER_ID) throw protocolError('LeaveGroup', code, opts.groupId);
  };

  try {
    await join();
  } catch (err) {
    await leaveNow().catch(() => {});
    await conn.close().catch(() => {});
    throw err;
  }

  // The coordinator moved (or its connection broke): find it again, until the session would have expired.
  let lastAnswered = Date.now();
  const reconnect = async (why: string): Promise<boolean> => {
    if (Date.now() - lastAnswered > sessionTimeoutMs) {
      lost = `no heartbeat answered for ${sessionTimeoutMs} ms (${why}): evicted by now`;
      return false;
    }
    await conn.close().catch(() => {});
    try {
      const [again] = await findCoordinators(opts.bootstrap, 0, [opts.groupId], clientId, Date.now() + 3000);
      if (again) conn = await connect(again.host, again.port, clientId, timeoutMs);
    } catch {
      // tried again at the next heartbeat
    }
    return true;
  };

  const loop = (async () => {
    while (!stopped) {
      await sleep(opts.heartbeatMs ?? 1000);
      if (stopped) return;
      let code: number;
      try {
        code = await send(
          conn,
          heartbeatV4.api,
          heartbeatV4.createRequest(opts.groupId, generation, memberId, null),
          (r) => {
            r.readInt32();
            const errorCode = r.readInt16();
            r.readTaggedFields();
            return errorCode;
          },
        );
      } catch (err) {
        if (stopped || !(await reconnect((err as Error).message))) return;
        continue;
      }
      if (stopped) return;
      if (COORDINATOR_RETRIABLE.has(code)) {
        if (!(await reconnect(protocolError('Heartbeat', code).message))) return;
        continue;
      }
      lastAnswered = Date.now();
      if (code !== 0 && code !== REBALANCE_IN_PROGRESS && code !== ILLEGAL_GENERATION) {
        lost = `${protocolError('Heartbeat', code, opts.groupId).message}${code === UNKNOWN_MEMBER_ID ? ' (evicted from the group)' : ''}`;
        return;
      }
      if (code === 0) continue;
      try {
        rejoins++;
        await join();
      } catch (err) {
        if (stopped) return;
        lost = `no longer a member: ${(err as Error).message}`;
        // Maybe still one: leave, so the group is not left waiting for it.
        await leaveNow().catch(() => {});
        return;
      }
    }
  })();

  let leaving: Promise<void> | undefined;
  return {
    get memberId() {
      return memberId;
    },
    get generation() {
      return generation;
    },
    get assignment() {
      return assignment;
    },
    get rejoins() {
      return rejoins;
    },
    get leads() {
      return leads;
    },
    get lost() {
      return lost;
    },
    leave() {
      leaving ??= (async () => {
        stopped = true;
        // A heartbeat or a rejoin in flight is answered first (the broker answers a connection in order).
        await loop;
        try {
          if (lost === undefined) {
            try {
              await leaveNow();
            } catch (err) {
              // The connection may be gone (the coordinator moved): once more on a new one. If that fails too, the
              // member sends no more heartbeats, so the coordinator evicts it after its session.
              const [again] = await findCoordinators(opts.bootstrap, 0, [opts.groupId], clientId, Date.now() + 5000);
              if (!again) throw err;
              await conn.close().catch(() => {});
              conn = await connect(again.host, again.port, clientId, 10_000);
              await leaveNow();
            }
          }
        } finally {
          await conn.close().catch(() => {});
        }
      })();
      return leaving;
    },
  };
}

/** Joins a consumer (KIP-848) group with ConsumerGroupHeartbeat v1, subscribed to `topic`. */
export async function joinConsumerGroup(opts: JoinOptions): Promise<HarnessMember> {
  const clientId = opts.clientId ?? 'streamproof-rebalance';
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const [c] = await findCoordinators(opts.bootstrap, 0, [opts.groupId], clientId, Date.now() + 10_000);
  if (!c) throw protocolError('FindCoordinator', -1, 'empty answer');
  const conn: Connection = await connect(c.host, c.port, clientId, 15_000);
  const memberId = randomBytes(16).toString('base64url');
  let epoch = 0;
  let intervalMs = opts.heartbeatMs ?? 1000;
  let owned: { topicId: string; partitions: number[] }[] = [];
  let rejoins = 0;
  let lost: string | undefined;
  let stopped = false;

  const beat = async (memberEpoch: number) => {
    const res = await send(
      conn,
      consumerGroupHeartbeatV1.api,
      consumerGroupHeartbeatV1.createRequest(
        opts.groupId,
        memberId,
        memberEpoch,
        null,
        null,
        30_000,
        [opts.topic],
        null,
        null,
        owned,
      ),
      (r) => {
        r.readInt32();
        const errorCode = r.readInt16();
        const errorMessage = r.readNullableString();
        r.readNullableString();
        const memberEpoch = r.readInt32();
        const heartbeatIntervalMs = r.readInt32();
        const assignment = r.readNullableStruct(() => {
          const tps = r.readArray((t) => ({
            topicId: t.readUUID(),
            partitions: t.readArray((p) => p.readInt32(), true, false),
          }));
          r.readTaggedFields();
          return tps;
        });
        r.readTaggedFields();
        return { errorCode, errorMessage, memberEpoch, heartbeatIntervalMs, assignment };
      },
    );
    if (res.errorCode !== 0) throw protocolError('ConsumerGroupHeartbeat', res.errorCode, res.errorMessage);
    if (memberEpoch >= 0) {
      if (epoch !== 0 && res.memberEpoch !== epoch) rejoins++;
      epoch = res.memberEpoch;
      if (res.heartbeatIntervalMs > 0) intervalMs = Math.min(res.heartbeatIntervalMs, opts.heartbeatMs ?? 1000);
      // Nothing to reconcile: what it is given it owns at once, and says so in its next heartbeat.
      if (res.assignment) owned = res.assignment;
    }
  };

  // Joined once the broker gave it an assignment (maybe empty, when there are more members than partitions).
  const deadline = Date.now() + Math.min(timeoutMs, 15_000);
  try {
    await beat(0);
    while (owned.length === 0 && Date.now() < deadline) {
      await sleep(intervalMs);
      await beat(epoch);
    }
  } catch (err) {
    await beat(-1).catch(() => {});
    await conn.close().catch(() => {});
    throw err;
  }

  const loop = (async () => {
    while (!stopped) {
      await sleep(intervalMs);
      if (stopped) return;
      try {
        await beat(epoch);
      } catch (err) {
        if (stopped) return;
        lost = `no longer a member: ${(err as Error).message}`;
        return;
      }
    }
  })();

  let leaving: Promise<void> | undefined;
  return {
    memberId,
    get generation() {
      return epoch;
    },
    get assignment() {
      return new Map(owned.map((t) => [t.topicId, t.partitions]));
    },
    get rejoins() {
      return rejoins;
    },
    leads: 0,
    get lost() {
      return lost;
    },
    leave() {
      leaving ??= (async () => {
        stopped = true;
        await loop;
        try {
          if (lost === undefined) await beat(-1);
        } finally {
          await conn.close().catch(() => {});
        }
      })();
      return leaving;
    },
  };
}
