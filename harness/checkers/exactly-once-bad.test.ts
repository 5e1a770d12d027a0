/**
 * The exactly-once checker with bad events (`events.bad`): expected absent, never lost, unexpected when seen.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sendRecords } from '../history/fixtures.ts';
import { History, type HistoryRecord, historyOf, type Outcome } from '../history/index.ts';
import { checkExactlyOnce, countMissing, exactlyOnceEntries, listExactlyOnceAnomalies } from './exactly-once.ts';

function send(seq: number, outcome: Outcome | 'none', bad: boolean, producer = 0): HistoryRecord[] {
  return sendRecords(`${producer}-${seq}`, outcome, bad);
}

function seen(eventId: string, offset = 0): HistoryRecord {
  return { kind: 'observed', time: 100 + offset, eventId, key: 'u', partition: 0, offset, userSeq: offset, sentAt: 0 };
}

const drained: HistoryRecord = { kind: 'drain', time: 1000, complete: true };

describe('exactlyOnce with bad events', () => {
  it('a bad event offered and acked but not in the output is not lost', () => {
    const h = historyOf([...send(0, 'acked', false), ...send(1, 'acked', true), seen('0-0'), drained]);
    const r = checkExactlyOnce(h);
    expect(r.valid).toBe(true);
    expect(r.lost).toEqual([]);
    expect(r.counts).toMatchObject({ bad: 1, lost: 0, ok: 1, acked: 2, unexpected: 0 });
    expect(countMissing(h)).toBe(0);
  });

  it('nor unseen after an incomplete drain', () => {
    const h = historyOf([...send(0, 'acked', true), { kind: 'drain', time: 9, complete: false }]);
    const r = checkExactlyOnce(h);
    expect(r.counts).toMatchObject({ unseen: 0, lost: 0 });
    expect(r.valid).toBe(true);
  });

  it('a bad event in the output is unexpected (bad-event-in-output), whatever its outcome', () => {
    const h = historyOf([
      ...send(0, 'acked', true),
      ...send(1, 'failed', true),
      ...send(2, 'unknown', true),
      ...send(3, 'none', true),
      ...send(4, 'unknown', true),
      seen('0-0'),
      seen('0-1', 1),
      seen('0-2', 2),
      seen('0-3', 3),
      drained,
    ]);
    const r = checkExactlyOnce(h);
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['unexpected']);
    expect(r.unexpected).toEqual(
      ['0-0', '0-1', '0-2', '0-3'].map((eventId) => ({ eventId, reason: 'bad-event-in-output' })),
    );
    // Taken out of failed-but-seen and unknown-seen; a bad unknown send not seen is still reported apart.
    expect(r.counts).toMatchObject({
      unexpected: 4,
      unexpectedBadEvent: 4,
      unexpectedFailedButSeen: 0,
      unknownSeen: 0,
      unknownNotSeen: 1,
      ok: 0,
      bad: 5,
    });
    expect(r.unknownNotSeen).toEqual(['0-4']);
    expect(listExactlyOnceAnomalies(h).unexpected).toEqual(r.unexpected);
  });

  it('a bad event seen twice is duplicated and unexpected', () => {
    const h = historyOf([...send(0, 'acked', true), seen('0-0'), seen('0-0', 1), drained]);
    const r = checkExactlyOnce(h);
    expect(r.anomalyTypes).toEqual(['duplicated', 'unexpected']);
    expect([...exactlyOnceEntries(h)]).toEqual([
      { anomaly: 'duplicated', eventId: '0-0', count: 2 },
      { anomaly: 'unexpected', eventId: '0-0', reason: 'bad-event-in-output' },
    ]);
  });

  it('bad events of several producers, across word boundaries', () => {
    const records: HistoryRecord[] = [];
    for (const producer of [0, 3]) {
      for (let seq = 0; seq < 70; seq++) records.push(...send(seq, 'acked', seq % 31 === 0, producer));
    }
    for (const producer of [0, 3]) {
      for (let seq = 0; seq < 70; seq++)
        if (seq % 31 !== 0 || seq === 62) records.push(seen(`${producer}-${seq}`, seq));
    }
    const r = checkExactlyOnce(historyOf([...records, drained]));
    expect(r.counts).toMatchObject({ bad: 6, lost: 0, unexpectedBadEvent: 2, ok: 134 });
    expect(r.unexpected.map((u) => u.eventId)).toEqual(['0-62', '3-62']);
  });

  it('the verdict survives a JSON round trip and a merge of two workers', () => {
    const a = historyOf([...send(0, 'acked', true), ...send(1, 'acked', false), seen('0-1'), drained]);
    const b = historyOf([...send(0, 'acked', true, 1), ...send(1, 'acked', true, 1), seen('1-1', 1), drained]);
    const merged = History.fromJSON(JSON.parse(JSON.stringify(a.toJSON()))).merge(
      History.fromJSON(JSON.parse(JSON.stringify(b.toJSON()))),
    );
    const r = checkExactlyOnce(merged);
    expect(r.counts).toMatchObject({ bad: 3, lost: 0, ok: 1, unexpectedBadEvent: 1 });
    expect(r.unexpected).toEqual([{ eventId: '1-1', reason: 'bad-event-in-output' }]);
  });

  it('property: bad events are never lost, and are unexpected exactly when seen', () => {
    const ev = fc.record({
      outcome: fc.constantFrom<Outcome | 'none'>('acked', 'acked', 'failed', 'unknown', 'none'),
      bad: fc.boolean(),
      sightings: fc.constantFrom(0, 0, 1, 1, 2),
    });
    fc.assert(
      fc.property(fc.array(ev, { maxLength: 100 }), fc.boolean(), (events, complete) => {
        const records = events.flatMap((e, seq) => send(seq, e.outcome, e.bad));
        events.forEach((e, seq) => {
          for (let k = 0; k < e.sightings; k++) records.push(seen(`0-${seq}`, k));
        });
        records.push({ kind: 'drain', time: 1000, complete });
        const h = historyOf(records);
        const r = checkExactlyOnce(h, { maxExamples: 1000 });
        const missing = events.filter((e) => e.outcome === 'acked' && !e.bad && e.sightings === 0).length;
        expect(r.counts.lost + r.counts.unseen).toBe(missing);
        expect(countMissing(h)).toBe(missing);
        const badSeen = events.flatMap((e, seq) => (e.bad && e.sightings > 0 ? [`0-${seq}`] : []));
        expect(r.unexpected.filter((u) => u.reason === 'bad-event-in-output').map((u) => u.eventId)).toEqual(badSeen);
        expect(r.counts.unexpectedBadEvent).toBe(badSeen.length);
        expect(r.counts.bad).toBe(events.filter((e) => e.bad).length);
        const back = checkExactlyOnce(History.fromJSON(JSON.parse(JSON.stringify(h.toJSON()))), { maxExamples: 1000 });
        expect(back).toEqual(r);
      }),
    );
  });
});
