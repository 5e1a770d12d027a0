import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeConsumerAssignment, type GroupDescription, ownedPartitions } from './groups.ts';

/** ConsumerProtocolAssignment as kafka-clients' ConsumerProtocol.serializeAssignment writes it (all of versions 0-3). */
function javaAssignment(
  version: number,
  topics: [string, number[]][],
  userData: Buffer | null = null,
  trailing: Buffer = Buffer.alloc(0),
): Buffer {
  const parts: Buffer[] = [int16(version), int32(topics.length)];
  for (const [name, partitions] of topics) {
    const n = Buffer.from(name, 'utf8');
    parts.push(int16(n.length), n, int32(partitions.length), ...partitions.map(int32));
  }
  parts.push(userData === null ? int32(-1) : Buffer.concat([int32(userData.length), userData]));
  parts.push(trailing);
  return Buffer.concat(parts);
}

function int16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
}

function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
}

const plain = (m: Map<string, number[]> | undefined) => (m ? Object.fromEntries(m) : m);

describe('decodeConsumerAssignment', () => {
  it('decodes the bytes a Java 4.1 range consumer left in a real group (v3, null user data: ff ff ff ff)', () => {
    // Captured from DescribeGroups v5 for a ConsoleConsumer group: the input that crashes @platformatic/kafka 1.35.
    const bytes = Buffer.from('000300000001000372647400000003000000000000000100000002ffffffff', 'hex');
    expect(plain(decodeConsumerAssignment(bytes))).toEqual({ rdt: [0, 1, 2] });
  });

  it.each([0, 1, 2, 3])('decodes a Java v%i assignment of two topics', (version) => {
    const bytes = javaAssignment(version, [
      ['events', [0, 2, 4]],
      ['other.topic-x', [1]],
    ]);
    expect(plain(decodeConsumerAssignment(bytes))).toEqual({ events: [0, 2, 4], 'other.topic-x': [1] });
  });

  it('an empty assignment (no topics) and zero bytes (not assigned yet) are both an empty map', () => {
    expect(decodeConsumerAssignment(javaAssignment(3, []))?.size).toBe(0);
    expect(decodeConsumerAssignment(javaAssignment(0, [['events', []]]))?.get('events')).toEqual([]);
    expect(decodeConsumerAssignment(Buffer.alloc(0))?.size).toBe(0);
  });

  it('skips user data when present, empty or null', () => {
    const userData = Buffer.from('cooperative-sticky generation 7, and bytes ff ff ff ff: \xff\xff\xff\xff', 'latin1');
    for (const ud of [userData, Buffer.alloc(0), null]) {
      expect(plain(decodeConsumerAssignment(javaAssignment(1, [['t', [5]]], ud)))).toEqual({ t: [5] });
    }
  });

  it('accepts a member that wrote no user data field at all', () => {
    const full = javaAssignment(0, [['t', [0, 1]]]);
    expect(plain(decodeConsumerAssignment(full.subarray(0, full.length - 4)))).toEqual({ t: [0, 1] });
  });

  it('decodes an unknown later version and ignores trailing bytes', () => {
    const bytes = javaAssignment(9, [['t', [3]]], Buffer.from('ud'), Buffer.from('0011223344', 'hex'));
    expect(plain(decodeConsumerAssignment(bytes))).toEqual({ t: [3] });
    expect(plain(decodeConsumerAssignment(javaAssignment(3, [['t', [3]]], null, Buffer.alloc(3))))).toEqual({ t: [3] });
  });

  it('merges a topic listed twice', () => {
    const bytes = javaAssignment(0, [
      ['t', [0]],
      ['t', [2]],
    ]);
    expect(plain(decodeConsumerAssignment(bytes))).toEqual({ t: [0, 2] });
  });

  it('decodes what kafkajs and @platformatic/kafka write (user data as an empty int32-length byte string)', () => {
    const require = createRequire(import.meta.url);
    const { MemberAssignment } = require('kafkajs/src/consumer/assignerProtocol.js') as {
      MemberAssignment: { encode(a: { version: number; assignment: Record<string, number[]> }): Buffer };
    };
    const kafkajs = MemberAssignment.encode({ version: 1, assignment: { events: [0, 1], x: [2] } });
    expect(plain(decodeConsumerAssignment(kafkajs))).toEqual({ events: [0, 1], x: [2] });
    // @platformatic/kafka's #encodeProtocolAssignment: version 0, the topics, then appendInt32(0).
    const platformatic = Buffer.concat([javaAssignment(0, [['events', [3]]]).subarray(0, -4), int32(0)]);
    expect(plain(decodeConsumerAssignment(platformatic))).toEqual({ events: [3] });
  });

  it('truncated bytes give undefined (or the assignment, when only the user data is missing), never a throw', () => {
    const full = javaAssignment(
      2,
      [
        ['events', [0, 1, 2]],
        ['t2', [7]],
      ],
      Buffer.from('user-data'),
    );
    const userDataAt = full.length - 4 - 'user-data'.length;
    for (let n = 1; n < full.length; n++) {
      const got = decodeConsumerAssignment(full.subarray(0, n));
      if (n === userDataAt) expect(plain(got)).toEqual({ events: [0, 1, 2], t2: [7] });
      else expect(got, `prefix of ${n} bytes`).toBeUndefined();
    }
  });

  it('garbage gives undefined', () => {
    expect(decodeConsumerAssignment(Buffer.from('ff', 'hex'))).toBeUndefined();
    expect(decodeConsumerAssignment(int16(-1))).toBeUndefined(); // negative version
    expect(decodeConsumerAssignment(Buffer.concat([int16(0), int32(-1)]))).toBeUndefined(); // null topic array
    expect(decodeConsumerAssignment(Buffer.concat([int16(0), int32(0x7fffffff)]))).toBeUndefined(); // huge count
    expect(decodeConsumerAssignment(Buffer.concat([int16(0), int32(1), int16(-1), int32(0)]))).toBeUndefined();
    expect(
      decodeConsumerAssignment(Buffer.concat([int16(0), int32(1), int16(1), Buffer.from('t'), int32(-5), int32(-1)])),
    ).toBeUndefined(); // negative partition count
    expect(
      decodeConsumerAssignment(Buffer.concat([int16(0), int32(1), int16(1), Buffer.from('t'), int32(1), int32(-3)])),
    ).toBeUndefined(); // negative partition
    expect(decodeConsumerAssignment(Buffer.concat([int16(0), int32(0), int32(100)]))).toBeUndefined(); // user data overruns
    expect(decodeConsumerAssignment(Buffer.concat([int16(0), int32(0), int32(-7)]))).toBeUndefined();
    expect(decodeConsumerAssignment(Buffer.from('{"topics":["events"]}'))).toBeUndefined(); // JSON, not the protocol
    expect(decodeConsumerAssignment(undefined)).toBeUndefined();
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const got = decodeConsumerAssignment(bytes);
        expect(got === undefined || got instanceof Map).toBe(true);
      }),
      { seed: 848, numRuns: 2000 },
    );
  });

  it('decodes a subarray of a larger buffer (offset into a pooled buffer)', () => {
    const inner = javaAssignment(3, [['t', [1, 2]]]);
    const outer = Buffer.concat([Buffer.from('junk'), inner, Buffer.from('more')]);
    expect(plain(decodeConsumerAssignment(outer.subarray(4, 4 + inner.length)))).toEqual({ t: [1, 2] });
  });
});

describe('ownedPartitions', () => {
  it('is the sorted union over members; unknown assignments add nothing', () => {
    const g: GroupDescription = {
      groupId: 'g',
      type: 'classic',
      brokerType: 'classic',
      state: 'Stable',
      protocolType: 'consumer',
      protocol: 'range',
      members: [
        { memberId: 'a', instanceId: null, clientId: 'c', clientHost: 'h', assignment: new Map([['t', [2, 0]]]) },
        { memberId: 'b', instanceId: 'i', clientId: 'c', clientHost: 'h', assignment: undefined },
        {
          memberId: 'c',
          instanceId: null,
          clientId: 'c',
          clientHost: 'h',
          assignment: new Map([
            ['t', [1, 2]],
            ['u', [5]],
          ]),
        },
      ],
    };
    expect(ownedPartitions(g, 't')).toEqual([0, 1, 2]);
    expect(ownedPartitions(g, 'u')).toEqual([5]);
    expect(ownedPartitions(g, 'v')).toEqual([]);
  });
});
