import { Writer } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { decodeConsumerAssignment } from './consumer-assignment.ts';
import { assignAsLeader, consumerSubscription, decodeSubscription, encodeAssignment } from './consumer-protocol.ts';

/** A subscription as the Java client writes it: v1+ with owned partitions (v2 adds the generation). */
function javaSubscription(version: number, topics: string[], owned: [string, number[]][]): Buffer {
  const w = Writer.create()
    .appendInt16(version)
    .appendArray(topics, (x, t) => x.appendString(t, false), false, false)
    .appendBytes(null as unknown as Buffer, false)
    .appendArray(
      owned,
      (x, [t, ps]) => x.appendString(t, false).appendArray(ps, (y, p) => y.appendInt32(p), false, false),
      false,
      false,
    );
  if (version >= 2) w.appendInt32(4);
  return Buffer.from(w.buffer);
}

describe('consumer protocol bytes', () => {
  it('a v0 subscription: version, int32 topic count, int16 names, empty user data', () => {
    expect(consumerSubscription(['ab']).toString('hex')).toBe('0000000000010002616200000000');
    expect(decodeSubscription(consumerSubscription(['ab', 'c']))).toEqual({ topics: ['ab', 'c'], owned: new Map() });
  });

  it('decodes the owned partitions of v1/v2 subscriptions, and a v1 written without them', () => {
    expect(decodeSubscription(javaSubscription(2, ['t'], [['t', [0, 2]]]))).toEqual({
      topics: ['t'],
      owned: new Map([['t', [0, 2]]]),
    });
    // @platformatic/kafka writes version 1 with topics and user data only.
    const platformatic = Buffer.from(
      Writer.create()
        .appendInt16(1)
        .appendArray(['t'], (x, t) => x.appendString(t, false), false, false)
        .appendBytes(null as unknown as Buffer, false).buffer,
    );
    expect(decodeSubscription(platformatic)).toEqual({ topics: ['t'], owned: new Map() });
    expect(decodeSubscription(Buffer.from([0, 0, 0, 0, 0, 9]))).toBeUndefined();
    expect(decodeSubscription(null)).toBeUndefined();
  });

  it('an assignment reads back as members decode it', () => {
    const a = new Map([
      ['t', [1, 3]],
      ['u', [0]],
    ]);
    expect(decodeConsumerAssignment(encodeAssignment(a))).toEqual(a);
  });
});

describe('assignAsLeader', () => {
  it('owned partitions stay with their owner; the rest round-robin over the subscribers, in member id order', () => {
    const out = assignAsLeader(
      [
        { memberId: 'harness', topics: ['t'], owned: new Map() },
        { memberId: 'a', topics: ['t', 'u'], owned: new Map([['t', [3]]]) },
      ],
      new Map([
        ['t', 4],
        ['u', 2],
        ['unsubscribed', 3],
      ]),
    );
    expect(out).toEqual(
      new Map([
        [
          'a',
          new Map([
            ['t', [0, 2, 3]],
            ['u', [0, 1]],
          ]),
        ],
        ['harness', new Map([['t', [1]]])],
      ]),
    );
  });

  it('a partition claimed by two members goes to the first; a member that subscribes to nothing gets nothing', () => {
    const out = assignAsLeader(
      [
        { memberId: 'b', topics: ['t'], owned: new Map([['t', [0]]]) },
        { memberId: 'a', topics: ['t'], owned: new Map([['t', [0]]]) },
        { memberId: 'c', topics: [], owned: new Map() },
      ],
      new Map([['t', 2]]),
    );
    expect(out.get('a')).toEqual(new Map([['t', [0, 1]]]));
    expect(out.get('b')).toEqual(new Map());
    expect(out.get('c')).toEqual(new Map());
  });
});
