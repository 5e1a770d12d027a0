import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { History, type HistoryRecord, historyOf, type Outcome } from '../history/index.ts';
import { writeAnomalyFile } from './anomaly-file.ts';
import { checkExactlyOnce, countMissing, exactlyOnceEntries, listExactlyOnceAnomalies } from './exactly-once.ts';

/** Offers `0-0 .. 0-(n-1)` with the given outcomes (default acked). */
function sends(outcomes: readonly Outcome[]): HistoryRecord[] {
  return outcomes.flatMap((outcome, seq): HistoryRecord[] => [
    { kind: 'offered', time: seq, eventId: `0-${seq}`, userId: 'u', userSeq: seq, sentAt: seq },
    { kind: 'outcome', time: seq + 1, eventId: `0-${seq}`, outcome, sentAt: seq },
  ]);
}

function seen(eventId: string, offset = 0): HistoryRecord {
  return {
    kind: 'observed',
    time: 100 + offset,
    eventId,
    key: 'u',
    partition: 0,
    offset,
    userSeq: Number(eventId.split('-')[1]),
    sentAt: 0,
  };
}

const drained: HistoryRecord = { kind: 'drain', time: 1000, complete: true };

describe('exactlyOnce', () => {
  it('passes a clean run', () => {
    const r = checkExactlyOnce(historyOf([...sends(['acked', 'acked']), seen('0-0'), seen('0-1', 1), drained]));
    expect(r.valid).toBe(true);
    expect(r.anomalyTypes).toEqual([]);
    expect(r.counts).toMatchObject({ offered: 2, acked: 2, seen: 2, ok: 2 });
  });

  it('lost', () => {
    const r = checkExactlyOnce(historyOf([...sends(['acked', 'acked']), seen('0-0'), drained]));
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['lost']);
    expect(r.lost).toEqual(['0-1']);
    expect(r.counts.lost).toBe(1);
  });

  it('a missing event is unseen (unknown, not false) when the drain did not complete', () => {
    const notDrained = checkExactlyOnce(historyOf([...sends(['acked']), { kind: 'drain', time: 9, complete: false }]));
    expect(notDrained.valid).toBe('unknown');
    expect(notDrained.counts).toMatchObject({ lost: 0, unseen: 1 });
    expect(notDrained.unseen).toEqual(['0-0']);
    expect(notDrained.reason).toMatch(/1 acked events unseen.*drain ended before the pipeline caught up/);
    const noDrain = checkExactlyOnce(historyOf(sends(['acked'])));
    expect(noDrain.reason).toMatch(/no drain was recorded/);
    expect(noDrain.counts).toMatchObject({ lost: 0, unseen: 1 });
  });

  it('after an incomplete drain, a missing event the pipeline committed past is lost; the others are unseen', () => {
    const h = historyOf([
      ...sends(['acked', 'acked', 'acked']),
      seen('0-1'),
      { kind: 'drain', time: 9, complete: false, consumed: ['0-0'] },
    ]);
    const r = checkExactlyOnce(h);
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['lost']);
    expect(r.lost).toEqual(['0-0']);
    expect(r.unseen).toEqual(['0-2']);
    expect(r.counts).toMatchObject({ lost: 1, unseen: 1, ok: 1 });
    expect(listExactlyOnceAnomalies(h)).toMatchObject({ lost: ['0-0'], unseen: ['0-2'] });
    // What the drain polls: every acked event not seen, lost or unseen.
    expect(countMissing(h)).toBe(2);
    // The split survives a save and a merge.
    const back = History.fromJSON(JSON.parse(JSON.stringify(h.toJSON())));
    expect(checkExactlyOnce(back).counts).toMatchObject({ lost: 1, unseen: 1 });
  });

  it('duplicated', () => {
    const r = checkExactlyOnce(historyOf([...sends(['acked']), seen('0-0'), seen('0-0', 1), seen('0-0', 2), drained]));
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['duplicated']);
    expect(r.duplicated).toEqual([{ eventId: '0-0', count: 3 }]);
  });

  it('unexpected: never offered, failed but seen, malformed id', () => {
    const r = checkExactlyOnce(
      historyOf([
        ...sends(['acked', 'failed']),
        seen('0-0'),
        seen('0-1', 1),
        seen('7-3', 2),
        seen('garbage', 3),
        drained,
      ]),
    );
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['unexpected']);
    expect(r.unexpected).toEqual([
      { eventId: '7-3', reason: 'never-offered' },
      { eventId: '0-1', reason: 'failed-but-seen' },
      { eventId: 'garbage', reason: 'malformed-id' },
    ]);
    expect(r.counts).toMatchObject({
      unexpected: 3,
      unexpectedNeverOffered: 1,
      unexpectedFailedButSeen: 1,
      unexpectedMalformedId: 1,
    });
  });

  it('unknown sends seen once or not at all are reported apart and do not fail', () => {
    const r = checkExactlyOnce(
      historyOf([...sends(['unknown', 'unknown', 'acked']), seen('0-0'), seen('0-2', 1), drained]),
    );
    expect(r.valid).toBe(true);
    expect(r.unknownSeen).toEqual(['0-0']);
    expect(r.unknownNotSeen).toEqual(['0-1']);
    expect(r.counts).toMatchObject({ unknown: 2, unknownSeen: 1, unknownNotSeen: 1 });
  });

  it('an unknown send seen twice is duplicated', () => {
    const r = checkExactlyOnce(historyOf([...sends(['unknown']), seen('0-0'), seen('0-0', 1), drained]));
    expect(r.anomalyTypes).toEqual(['duplicated']);
  });

  it('offers with no outcome count as unknown', () => {
    const r = checkExactlyOnce(
      historyOf([{ kind: 'offered', time: 0, eventId: '0-0', userId: 'u', userSeq: 0, sentAt: 0 }, drained]),
    );
    expect(r.valid).toBe(true);
    expect(r.unknownNotSeen).toEqual(['0-0']);
  });

  it('conflicting outcomes and empty runs are unknown', () => {
    const conflict = checkExactlyOnce(historyOf([...sends(['acked']), ...sends(['failed']), seen('0-0'), drained]));
    expect(conflict.valid).toBe('unknown');
    expect(conflict.conflictingOutcomes).toEqual(['0-0']);
    expect(checkExactlyOnce(historyOf([drained])).valid).toBe('unknown');
  });

  it('caps examples, counts everything, and lists everything on demand', () => {
    const outcomes: Outcome[] = Array.from({ length: 100 }, () => 'acked');
    const h = historyOf([...sends(outcomes), drained]);
    const r = checkExactlyOnce(h, { maxExamples: 5 });
    expect(r.lost).toEqual(['0-0', '0-1', '0-2', '0-3', '0-4']);
    expect(r.counts.lost).toBe(100);
    expect(listExactlyOnceAnomalies(h).lost.length).toBe(100);
    expect(checkExactlyOnce(h, { maxExamples: 0 }).lost).toEqual([]);
    expect(() => checkExactlyOnce(h, { maxExamples: -1 })).toThrowError(/maxExamples/);
  });

  it('writes the full list as NDJSON', async () => {
    const h = historyOf([...sends(['acked', 'acked', 'unknown']), seen('0-1'), seen('0-1', 1), drained]);
    const dir = await mkdtemp(join(tmpdir(), 'streamproof-'));
    const file = join(dir, 'exactly-once.ndjson');
    expect(await writeAnomalyFile(file, exactlyOnceEntries(h))).toBe(3);
    const lines = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { anomaly: 'lost', eventId: '0-0' },
      { anomaly: 'duplicated', eventId: '0-1', count: 2 },
      { anomaly: 'unknown-not-seen', eventId: '0-2' },
    ]);
    await expect(writeAnomalyFile(join(dir, 'no/such/dir.ndjson'), [])).rejects.toMatchObject({ code: 'CHECKER_IO' });
  });
});
