import { describe, expect, it } from 'vitest';
import { type HistoryRecord, historyOf } from '../history/index.ts';
import { checkOrder } from './order.ts';

function out(eventId: string, userSeq: number, offset: number, partition = 0, key = 'u'): HistoryRecord {
  return { kind: 'observed', time: offset, eventId, key, partition, offset, userSeq, sentAt: 0 };
}

describe('order', () => {
  it('passes increasing user_seq per user, gaps included', () => {
    const r = checkOrder(historyOf([out('0-0', 0, 0), out('0-1', 1, 1), out('0-5', 5, 2), out('1-0', 0, 3, 0, 'v')]));
    expect(r.valid).toBe(true);
    expect(r.counts).toMatchObject({ reordered: 0, users: 2, partitions: 1 });
  });

  it('reordered', () => {
    const r = checkOrder(historyOf([out('0-0', 0, 0), out('0-2', 2, 1), out('0-1', 1, 2)]));
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['reordered']);
    expect(r.reordered).toEqual([
      { userId: 'u', partition: 0, offset: 2, eventId: '0-1', userSeq: 1, previousUserSeq: 2, time: 2 },
    ]);
  });

  it('a distinct event repeating a user_seq is reordered', () => {
    expect(checkOrder(historyOf([out('0-0', 0, 0), out('0-1', 1, 1), out('0-2', 1, 2)])).anomalyTypes).toEqual([
      'reordered',
    ]);
  });

  it('a re-delivery of an old event is a duplicate, not a reorder', () => {
    const r = checkOrder(historyOf([out('0-0', 0, 0), out('0-1', 1, 1), out('0-0', 0, 2)]));
    expect(r.valid).toBe(true);
  });

  it('users split over partitions and unkeyed records are counted, not failed', () => {
    const unkeyed: HistoryRecord = { ...(out('0-9', 9, 9) as object), key: undefined } as HistoryRecord;
    const r = checkOrder(historyOf([out('0-0', 0, 0, 0), out('0-1', 1, 0, 1), unkeyed]));
    expect(r.valid).toBe(true);
    expect(r.counts).toMatchObject({ usersOnSeveralPartitions: 1, unkeyed: 1 });
    expect(r.usersOnSeveralPartitions).toEqual(['u']);
  });

  it('with keyAffinity, a user split over partitions is reordered', () => {
    const h = historyOf([out('0-0', 0, 0, 0), out('0-1', 1, 0, 1)]);
    const r = checkOrder(h, { keyAffinity: true });
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['reordered']);
    expect(r.counts.reordered).toBe(1);
    expect(checkOrder(historyOf([out('0-0', 0, 0, 0), out('0-1', 1, 1, 0)]), { keyAffinity: true }).valid).toBe(true);
  });

  it('is unknown when merged workers both read a partition', () => {
    const a = historyOf([out('0-0', 0, 0)]);
    const b = historyOf([out('0-1', 1, 1)]);
    const r = checkOrder(a.merge(b));
    expect(r.valid).toBe('unknown');
    expect(r.overlappingPartitions).toEqual([0]);
  });
});
