/**
 * The classic consumer protocol's bytes for a group member of the harness (group-member.ts): the subscription it
 * sends, the members' subscriptions it reads when the group elects it leader, and the assignment it then writes.
 * Layouts (ConsumerProtocolSubscription / ConsumerProtocolAssignment, non-flexible): int16 version; int32-counted
 * arrays; int16-length strings; int32-length nullable bytes. Later versions only append fields.
 */
import { Writer } from '@platformatic/kafka';

/** ConsumerProtocolSubscription v0: int16 version, [topic], empty user data. */
export function consumerSubscription(topics: readonly string[]): Buffer {
  return Buffer.from(
    Writer.create()
      .appendInt16(0)
      .appendArray([...topics], (w, t) => w.appendString(t, false), false, false)
      .appendBytes(Buffer.alloc(0), false).buffer,
  );
}

export interface Subscription {
  readonly topics: string[];
  /** v1+: the partitions the member owns now (cooperative assignors); empty when absent. */
  readonly owned: Map<string, number[]>;
}

/**
 * Decodes any version: version, topics, user data, then (v1+) owned partitions when present (some clients write v1
 * without them). Undefined when the topics do not decode; never throws.
 */
export function decodeSubscription(bytes: Uint8Array | null | undefined): Subscription | undefined {
  if (!bytes) return undefined;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const has = (n: number) => pos + n <= buf.length;
  const int16 = () => {
    const v = buf.readInt16BE(pos);
    pos += 2;
    return v;
  };
  const int32 = () => {
    const v = buf.readInt32BE(pos);
    pos += 4;
    return v;
  };
  const str = (): string | undefined => {
    if (!has(2)) return undefined;
    const n = int16();
    if (n < 0 || !has(n)) return undefined;
    const s = buf.toString('utf8', pos, pos + n);
    pos += n;
    return s;
  };
  if (!has(6)) return undefined;
  const version = int16();
  const count = int32();
  if (version < 0 || count < 0 || count > buf.length) return undefined;
  const topics: string[] = [];
  for (let i = 0; i < count; i++) {
    const t = str();
    if (t === undefined) return undefined;
    topics.push(t);
  }
  const owned = new Map<string, number[]>();
  if (!has(4)) return { topics, owned };
  const userData = int32();
  if (userData > 0) pos += userData;
  if (version < 1 || !has(4)) return { topics, owned };
  const n = int32();
  for (let i = 0; i < n && n <= buf.length; i++) {
    const t = str();
    if (t === undefined || !has(4)) break;
    const k = int32();
    if (k < 0 || !has(4 * k)) break;
    owned.set(
      t,
      Array.from({ length: k }, () => int32()),
    );
  }
  return { topics, owned };
}

/** ConsumerProtocolAssignment v0: int16 version, [topic, [partition]], null user data. */
export function encodeAssignment(assigned: ReadonlyMap<string, readonly number[]>): Buffer {
  return Buffer.from(
    Writer.create()
      .appendInt16(0)
      .appendArray(
        [...assigned],
        (w, [t, ps]) => w.appendString(t, false).appendArray([...ps], (x, p) => x.appendInt32(p), false, false),
        false,
        false,
      )
      .appendBytes(null as unknown as Buffer, false).buffer,
  );
}

/**
 * A leader's assignment that any standard assignor's members accept, eager or cooperative: a partition a member
 * says it owns stays with it (while it is subscribed to the topic; the first claimant, in member id order, when two
 * claim one), and the rest go round-robin over the members subscribed to its topic, in member id order.
 */
export function assignAsLeader(
  members: readonly ({ memberId: string } & Subscription)[],
  partitions: ReadonlyMap<string, number>,
): Map<string, Map<string, number[]>> {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const out = new Map(sorted.map((m) => [m.memberId, new Map<string, number[]>()]));
  const give = (memberId: string, topic: string, p: number) => {
    const m = out.get(memberId)!;
    m.set(topic, [...(m.get(topic) ?? []), p]);
  };
  for (const [topic, count] of [...partitions].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const subscribers = sorted.filter((m) => m.topics.includes(topic));
    if (subscribers.length === 0) continue;
    let next = 0;
    for (let p = 0; p < count; p++) {
      const owner = subscribers.find((m) => m.owned.get(topic)?.includes(p));
      if (owner) {
        give(owner.memberId, topic, p);
      } else {
        give(subscribers[next % subscribers.length]!.memberId, topic, p);
        next++;
      }
    }
  }
  return out;
}
