/**
 * Consumer groups described the same way whatever client the members run: the Java client (classic protocol with any
 * assignor, static membership, or the KIP-848 `group.protocol=consumer` protocol), librdkafka, kafkajs,
 * @platformatic/kafka.
 *
 * Why not `Admin.describeGroups` of @platformatic/kafka 1.35: it decodes every member's assignment as if its own
 * client wrote it, and reads the user data as a compact (varint) byte string. The Java client writes a null user
 * data as int32 -1 (ff ff ff ff), so the varint read runs off the end of the buffer and throws a TypeError from a
 * socket callback, which crashes the process; and it describes KIP-848 groups with DescribeGroups, which answers
 * "Dead" for them. Its ConsumerGroupDescribe v0 parser also misreads the response (subscribed topic names read as one
 * string, the assignment structs' tagged fields skipped), so it fails with "Out of bounds".
 *
 * So this module speaks the protocol itself, with the connection and request writers @platformatic/kafka exports and
 * parsers of its own: FindCoordinator v6 (retrying while the coordinator moves or loads), ListGroups v5 on the
 * coordinator (the group's type), then DescribeGroups v5 for a classic group, whose `member_assignment` bytes are
 * decoded here defensively (`decodeConsumerAssignment`), or ConsumerGroupDescribe v0 for a consumer group, whose
 * assignments the broker keeps itself.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Connection,
  consumerGroupDescribeV0,
  describeGroupsV5,
  findCoordinatorV6,
  listGroupsV5,
  protocolErrorsCodesById,
  type Reader,
} from '@platformatic/kafka';
import { StreamproofError } from '../util/errors.ts';
import { decodeConsumerAssignment } from './consumer-assignment.ts';
import { send } from './raw.ts';
import { securityFor } from './security.ts';

export { decodeConsumerAssignment };

export type GroupType = 'classic' | 'consumer' | 'unknown';

export interface GroupMember {
  readonly memberId: string;
  /** group.instance.id of a static member. */
  readonly instanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  /**
   * Topic -> partitions the member owns now. Classic groups: decoded from the member's assignment bytes (an empty map
   * while it has none); undefined when the group's protocol type is not "consumer" or the bytes do not decode.
   * Consumer (KIP-848) groups: the assignment the broker says the member has reconciled.
   */
  readonly assignment: Map<string, number[]> | undefined;
}

export interface GroupDescription {
  readonly groupId: string;
  /** `unknown`: a group type this module does not describe (share, streams, ...); `members` is then empty. */
  readonly type: GroupType;
  /** The type as the broker names it ("classic", "consumer", "share", "streams", ...). */
  readonly brokerType: string;
  /** As the broker spells it: "Stable", "PreparingRebalance", "CompletingRebalance", "Assigning", "Reconciling", ... */
  readonly state: string;
  /** Classic groups: protocol type ("consumer" for consumer clients) and the chosen protocol (assignor name). */
  readonly protocolType: string;
  readonly protocol: string;
  readonly members: readonly GroupMember[];
}

/** A group API answered with an error: `KAFKA_PROTOCOL`, details `{ api, errorCode }` (Kafka's numeric code). */
function protocolError(api: string, errorCode: number, detail?: string | null): StreamproofError {
  return new StreamproofError(
    'KAFKA_PROTOCOL',
    `${api}: ${errorName(errorCode)} (${errorCode})${detail ? `: ${detail}` : ''}`,
    {
      api,
      errorCode,
    },
  );
}

const COORDINATOR_LOAD_IN_PROGRESS = 14;
const COORDINATOR_NOT_AVAILABLE = 15;
const NOT_COORDINATOR = 16;
const GROUP_ID_NOT_FOUND = 69;
const RETRIABLE = new Set([COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR]);

function errorName(code: number): string {
  return protocolErrorsCodesById[code] ?? 'UNKNOWN_ERROR';
}

/**
 * Describe one group through `bootstrap` ("host:port", several comma-separated, or a list; tried in order).
 * Undefined when the coordinator does not know the group. Retries while the coordinator is moving or loading, up to
 * `timeoutMs` (default 10 s); other protocol errors throw StreamproofError `KAFKA_PROTOCOL`, network errors throw as they come.
 */
export async function describeGroup(
  bootstrap: string | readonly string[],
  groupId: string,
  opts: { timeoutMs?: number; clientId?: string } = {},
): Promise<GroupDescription | undefined> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  const clientId = opts.clientId ?? 'streamproof-groups';
  let backoff = 100;
  for (;;) {
    try {
      return await describeOnce(bootstrap, groupId, clientId, deadline);
    } catch (err) {
      const retriable =
        err instanceof StreamproofError &&
        err.code === 'KAFKA_PROTOCOL' &&
        RETRIABLE.has(err.details.errorCode as number);
      if (!retriable || Date.now() + backoff >= deadline) throw err;
    }
    await sleep(backoff);
    backoff = Math.min(backoff * 2, 1000);
  }
}

async function describeOnce(
  bootstrap: string | readonly string[],
  groupId: string,
  clientId: string,
  deadline: number,
): Promise<GroupDescription | undefined> {
  const open: Connection[] = [];
  const connect = async (host: string, port: number): Promise<Connection> => {
    const remaining = Math.max(500, deadline - Date.now());
    const c = new Connection(clientId, {
      connectTimeout: remaining,
      requestTimeout: remaining,
      ...securityFor(`${host}:${port}`),
    });
    open.push(c);
    await c.connect(host, port);
    return c;
  };
  try {
    const seed = await connectFirst(bootstrap, connect);
    const coord = await send(
      seed.connection,
      findCoordinatorV6.api,
      findCoordinatorV6.createRequest(0, [groupId]),
      parseFindCoordinator,
    );
    const c = coord.find((x) => x.key === groupId) ?? coord[0];
    if (!c) throw protocolError('FindCoordinator', -1, 'empty answer');
    if (c.errorCode !== 0) throw protocolError('FindCoordinator', c.errorCode, c.errorMessage);
    const conn = c.host === seed.host && c.port === seed.port ? seed.connection : await connect(c.host, c.port);

    const listed = await send(conn, listGroupsV5.api, listGroupsV5.createRequest([], []), parseListGroups);
    if (listed.errorCode !== 0) throw protocolError('ListGroups', listed.errorCode);
    const entry = listed.groups.find((g) => g.groupId === groupId);
    if (!entry) return undefined;
    const brokerType = entry.groupType.toLowerCase();
    if (brokerType === 'classic') return await describeClassic(conn, groupId, brokerType);
    if (brokerType === 'consumer') return await describeConsumer(conn, groupId, brokerType);
    return {
      groupId,
      type: 'unknown',
      brokerType,
      state: entry.groupState,
      protocolType: entry.protocolType,
      protocol: '',
      members: [],
    };
  } finally {
    await Promise.allSettled(open.map((c) => c.close()));
  }
}

async function connectFirst(
  bootstrap: string | readonly string[],
  connect: (host: string, port: number) => Promise<Connection>,
): Promise<{ connection: Connection; host: string; port: number }> {
  let last: unknown;
  const list = typeof bootstrap === 'string' ? bootstrap.split(',') : bootstrap;
  for (const addr of list.map((s) => s.trim()).filter(Boolean)) {
    const i = addr.lastIndexOf(':');
    const host = addr.slice(0, i).replace(/^\[(.*)\]$/, '$1');
    const port = Number(addr.slice(i + 1));
    try {
      return { connection: await connect(host, port), host, port };
    } catch (err) {
      last = err;
    }
  }
  throw last ?? new Error(`no broker address in "${String(bootstrap)}"`);
}

async function describeClassic(
  conn: Connection,
  groupId: string,
  brokerType: string,
): Promise<GroupDescription | undefined> {
  const groups = await send(
    conn,
    describeGroupsV5.api,
    describeGroupsV5.createRequest([groupId], false),
    parseDescribeGroups,
  );
  const g = groups.find((x) => x.groupId === groupId);
  if (!g || g.errorCode === GROUP_ID_NOT_FOUND) return undefined;
  if (g.errorCode !== 0) throw protocolError('DescribeGroups', g.errorCode);
  // "Dead" with no protocol type: the group went away (or changed type) between ListGroups and DescribeGroups.
  if (g.groupState === 'Dead' && g.members.length === 0 && g.protocolType === '') return undefined;
  const isConsumer = g.protocolType === 'consumer';
  return {
    groupId,
    type: 'classic',
    brokerType,
    state: g.groupState,
    protocolType: g.protocolType,
    protocol: g.protocolData,
    members: g.members.map((m) => ({
      memberId: m.memberId,
      instanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      assignment: isConsumer ? decodeConsumerAssignment(m.memberAssignment) : undefined,
    })),
  };
}

async function describeConsumer(
  conn: Connection,
  groupId: string,
  brokerType: string,
): Promise<GroupDescription | undefined> {
  const groups = await send(
    conn,
    consumerGroupDescribeV0.api,
    consumerGroupDescribeV0.createRequest([groupId], false),
    parseConsumerGroupDescribe,
  );
  const g = groups.find((x) => x.groupId === groupId) ?? groups[0];
  if (!g || g.errorCode === GROUP_ID_NOT_FOUND) return undefined;
  if (g.errorCode !== 0) throw protocolError('ConsumerGroupDescribe', g.errorCode, g.errorMessage);
  return {
    groupId,
    type: 'consumer',
    brokerType,
    state: g.groupState,
    protocolType: 'consumer',
    protocol: g.assignorName,
    members: g.members.map((m) => ({
      memberId: m.memberId,
      instanceId: m.instanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      assignment: m.assignment,
    })),
  };
}

// --- Response parsers (flexible versions: compact strings and arrays, tagged fields after every struct) ---

function parseFindCoordinator(
  r: Reader,
): { key: string; nodeId: number; host: string; port: number; errorCode: number; errorMessage: string | null }[] {
  r.readInt32(); // throttle_time_ms
  const out = r.readArray((x) => ({
    key: x.readString(),
    nodeId: x.readInt32(),
    host: x.readString(),
    port: x.readInt32(),
    errorCode: x.readInt16(),
    errorMessage: x.readNullableString(),
  }));
  r.readTaggedFields();
  return out;
}

function parseListGroups(r: Reader): {
  errorCode: number;
  groups: { groupId: string; protocolType: string; groupState: string; groupType: string }[];
} {
  r.readInt32();
  const errorCode = r.readInt16();
  const groups = r.readArray((x) => ({
    groupId: x.readString(),
    protocolType: x.readString(),
    groupState: x.readString(),
    groupType: x.readString(),
  }));
  r.readTaggedFields();
  return { errorCode, groups };
}

interface RawClassicMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  memberAssignment: Buffer;
}

function parseDescribeGroups(r: Reader): {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: RawClassicMember[];
}[] {
  r.readInt32();
  const groups = r.readArray((g) => {
    const errorCode = g.readInt16();
    const groupId = g.readString();
    const groupState = g.readString();
    const protocolType = g.readString();
    const protocolData = g.readString();
    const members = g.readArray((m) => {
      const memberId = m.readString();
      const groupInstanceId = m.readNullableString();
      const clientId = m.readString();
      const clientHost = m.readString();
      m.readBytes(); // member_metadata: the subscription; not needed
      const memberAssignment = m.readBytes();
      return { memberId, groupInstanceId, clientId, clientHost, memberAssignment };
    });
    g.readInt32(); // authorized_operations
    return { errorCode, groupId, groupState, protocolType, protocolData, members };
  });
  r.readTaggedFields();
  return groups;
}

function parseConsumerGroupDescribe(r: Reader): {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  groupState: string;
  assignorName: string;
  members: {
    memberId: string;
    instanceId: string | null;
    clientId: string;
    clientHost: string;
    assignment: Map<string, number[]>;
  }[];
}[] {
  r.readInt32();
  // The Assignment struct: [TopicPartitions] then its own tagged fields.
  const readAssignment = (x: Reader): Map<string, number[]> => {
    const out = new Map<string, number[]>();
    const topics = x.readArray((t) => {
      t.readUUID();
      const name = t.readString();
      const partitions = t.readArray((p) => p.readInt32(), true, false);
      return { name, partitions };
    });
    x.readTaggedFields();
    for (const t of topics) out.set(t.name, [...(out.get(t.name) ?? []), ...t.partitions]);
    return out;
  };
  const groups = r.readArray((g) => {
    const errorCode = g.readInt16();
    const errorMessage = g.readNullableString();
    const groupId = g.readString();
    const groupState = g.readString();
    g.readInt32(); // group_epoch
    g.readInt32(); // assignment_epoch
    const assignorName = g.readString();
    const members = g.readArray((m) => {
      const memberId = m.readString();
      const instanceId = m.readNullableString();
      m.readNullableString(); // rack_id
      m.readInt32(); // member_epoch
      const clientId = m.readString();
      const clientHost = m.readString();
      m.readArray((s) => s.readString(), true, false); // subscribed_topic_names
      m.readNullableString(); // subscribed_topic_regex
      const assignment = readAssignment(m);
      readAssignment(m); // target_assignment
      return { memberId, instanceId, clientId, clientHost, assignment };
    });
    g.readInt32(); // authorized_operations
    return { errorCode, errorMessage, groupId, groupState, assignorName, members };
  });
  r.readTaggedFields();
  return groups;
}

/** The partitions of `topic` that the members own (union, sorted); members whose assignment is unknown add none. */
export function ownedPartitions(group: GroupDescription, topic: string): number[] {
  const owned = new Set<number>();
  for (const m of group.members) for (const p of m.assignment?.get(topic) ?? []) owned.add(p);
  return [...owned].sort((a, b) => a - b);
}
