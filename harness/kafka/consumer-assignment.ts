/**
 * ConsumerProtocolAssignment, as the classic protocol's clients (the Java client, librdkafka, kafkajs,
 * @platformatic/kafka) write it into SyncGroup and DescribeGroups returns it: decoded defensively, for any client.
 */

/**
 * Decode a classic consumer group member's `member_assignment` (ConsumerProtocolAssignment): int16 version, then
 * [topic: int16-length string, partitions: [int32]] with int32 array lengths, then nullable bytes user_data
 * (int32 length, -1 for null). Versions 0-3 share this layout; a later version may only append fields, so unknown
 * versions decode the same way and trailing bytes are ignored. A member without user data at all is accepted.
 *
 * Zero bytes (a member not yet assigned, e.g. during a rebalance) give an empty map. Bytes that do not decode
 * (negative version or length, a count or length past the end) give undefined. Never throws.
 */
export function decodeConsumerAssignment(bytes: Uint8Array | undefined | null): Map<string, number[]> | undefined {
  if (!bytes) return undefined;
  if (bytes.length === 0) return new Map();
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const need = (n: number) => pos + n <= buf.length;
  if (!need(2)) return undefined;
  const version = buf.readInt16BE(pos);
  pos += 2;
  if (version < 0) return undefined;
  if (!need(4)) return undefined;
  const topics = buf.readInt32BE(pos);
  pos += 4;
  // Each topic takes at least 6 bytes (empty name, empty partition array): a larger count cannot be real.
  if (topics < 0 || topics > (buf.length - pos) / 6) return undefined;
  const out = new Map<string, number[]>();
  for (let t = 0; t < topics; t++) {
    if (!need(2)) return undefined;
    const nameLen = buf.readInt16BE(pos);
    pos += 2;
    if (nameLen < 0 || !need(nameLen)) return undefined;
    const name = buf.toString('utf8', pos, pos + nameLen);
    pos += nameLen;
    if (!need(4)) return undefined;
    const count = buf.readInt32BE(pos);
    pos += 4;
    if (count < 0 || !need(count * 4)) return undefined;
    const partitions = out.get(name) ?? [];
    for (let i = 0; i < count; i++) {
      const p = buf.readInt32BE(pos);
      pos += 4;
      if (p < 0) return undefined;
      partitions.push(p);
    }
    out.set(name, partitions);
  }
  // user_data: absent, null (-1) or a length that must fit; anything after it is a later version's fields.
  if (need(4)) {
    const len = buf.readInt32BE(pos);
    if (len < -1 || (len > 0 && !need(4 + len))) return undefined;
  } else if (pos !== buf.length) {
    return undefined; // 1-3 stray bytes: a truncated user_data length
  }
  return out;
}
