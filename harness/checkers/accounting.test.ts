import { describe, expect, it } from 'vitest';
import { badEventAt, resolveBadEvents } from '../../generators/bad-slots.ts';
import { createDlqCollector, referenceDlq } from '../contracts/dlq.ts';
import { sendRecords } from '../history/fixtures.ts';
import { type HistoryRecord, historyOf, type Outcome } from '../history/index.ts';
import { accounting, checkAccounting, type DlqLedger } from './accounting.ts';
import { checkExactlyOnce } from './exactly-once.ts';

/** An offer of `eventId` (bad unless `good`) and its outcome (`none`: no outcome recorded). */
function send(eventId: string, outcome: Outcome | 'none' = 'acked', good = false): HistoryRecord[] {
  return sendRecords(eventId, outcome, !good);
}

function seen(eventId: string, offset = 0): HistoryRecord {
  return { kind: 'observed', time: 50 + offset, eventId, key: 'u', partition: 0, offset, userSeq: 0, sentAt: 0 };
}

const drained: HistoryRecord = { kind: 'drain', time: 100, complete: true };
const cutShort: HistoryRecord = { kind: 'drain', time: 100, complete: false };

/** A DLQ ledger from dead letters: [traced id (undefined: untraced), reason (undefined: none)]. */
function ledgerOf(letters: ReadonlyArray<readonly [string | undefined, string | undefined]>): DlqLedger {
  const byId = new Map<string, (string | undefined)[]>();
  const byReason: Record<string, number> = {};
  let untraced = 0;
  const untracedExamples: string[] = [];
  for (const [id, reason] of letters) {
    byReason[reason ?? '(none)'] = (byReason[reason ?? '(none)'] ?? 0) + 1;
    if (id === undefined) {
      untraced++;
      if (untracedExamples.length < 1) untracedExamples.push(`dlq/0/${untraced - 1} AAAA`);
      continue;
    }
    byId.set(id, [...(byId.get(id) ?? []), reason]);
  }
  return { byId, untraced, untracedExamples, total: letters.length, byReason };
}

describe('accounting', () => {
  it('passes when every acked bad event is dead-lettered once with a reason', () => {
    const h = historyOf([...send('0-0'), ...send('0-1'), ...send('0-2', 'acked', true), seen('0-2'), drained]);
    const r = checkAccounting(
      h,
      ledgerOf([
        ['0-0', 'schema'],
        ['0-1', 'rule'],
      ]),
    );
    expect(r.valid).toBe(true);
    expect(r.anomalyTypes).toEqual([]);
    expect(r.counts).toMatchObject({ bad: 2, badAcked: 2, deadLettered: 2, dlqRecords: 2, missing: 0, unexpected: 0 });
    expect(r.byReason).toEqual({ schema: 1, rule: 1 });
  });

  it('dlq-missing: an acked bad event never dead-lettered after a complete drain', () => {
    const r = checkAccounting(historyOf([...send('0-0'), ...send('0-1'), drained]), ledgerOf([['0-0', 'schema']]));
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['dlq-missing']);
    expect(r.missing).toEqual(['0-1']);
    expect(r.counts).toMatchObject({ missing: 1, deadLettered: 1, unsettled: 0 });
  });

  it('unsettled after an incomplete drain (or none): unknown, unless the pipeline committed past it', () => {
    const r = checkAccounting(historyOf([...send('0-0'), cutShort]), ledgerOf([]));
    expect(r.valid).toBe('unknown');
    expect(r.anomalyTypes).toEqual([]);
    expect(r.unsettled).toEqual(['0-0']);
    expect(r.missing).toEqual([]);
    expect(r.reason).toMatch(/1 acked bad events not dead-lettered when an incomplete drain ended/);
    expect(checkAccounting(historyOf(send('0-0')), ledgerOf([])).valid).toBe('unknown');
    const past = checkAccounting(
      historyOf([...send('0-0'), ...send('0-1'), { kind: 'drain', time: 9, complete: false, consumed: ['0-1'] }]),
      ledgerOf([]),
    );
    expect(past.valid).toBe(false);
    expect(past.missing).toEqual(['0-1']);
    expect(past.unsettled).toEqual(['0-0']);
  });

  it('dlq-duplicated: a bad event dead-lettered more than once, whatever its outcome', () => {
    const h = historyOf([...send('0-0'), ...send('0-1', 'failed'), ...send('0-2', 'unknown'), drained]);
    const r = checkAccounting(
      h,
      ledgerOf([
        ['0-0', 'a'],
        ['0-0', 'a'],
        ['0-1', 'a'],
        ['0-1', undefined],
        ['0-2', 'a'],
        ['0-2', 'a'],
        ['0-2', 'b'],
      ]),
    );
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['dlq-duplicated']);
    expect(r.duplicated).toEqual([
      { eventId: '0-0', count: 2 },
      { eventId: '0-1', count: 2 },
      { eventId: '0-2', count: 3 },
    ]);
    expect(r.byReason).toEqual({ a: 5, b: 1, '(none)': 1 });
  });

  it('refused at ingest (failed) or of unknown outcome: no dead letter or one is fine', () => {
    const h = historyOf([
      ...send('0-0', 'failed'),
      ...send('0-1', 'failed'),
      ...send('0-2', 'unknown'),
      ...send('0-3', 'none'),
      ...send('0-4', 'unknown'),
      drained,
    ]);
    const r = checkAccounting(
      h,
      ledgerOf([
        ['0-1', 'rejected'],
        ['0-4', 'schema'],
      ]),
    );
    expect(r.valid).toBe(true);
    expect(r.counts).toMatchObject({ bad: 5, refused: 2, badUnknown: 3, badAcked: 0, deadLettered: 2, missing: 0 });
  });

  it('dlq-unexpected: a good event, an id never offered, an untraced letter, a letter without a reason', () => {
    const h = historyOf([...send('0-0'), ...send('0-1', 'acked', true), ...send('0-2'), drained]);
    const r = checkAccounting(
      h,
      ledgerOf([
        ['0-0', undefined],
        ['0-1', 'oops'],
        ['0-1', 'oops'],
        ['0-7', 'schema'],
        ['9-0', 'schema'],
        [undefined, 'schema'],
        [undefined, 'schema'],
        ['0-2', 'schema'],
      ]),
    );
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['dlq-unexpected']);
    expect(r.unexpected).toEqual([
      { eventId: '0-0', reason: 'no-reason' },
      { eventId: '0-1', reason: 'good-event' },
      { eventId: '0-1', reason: 'good-event' },
      { eventId: '0-7', reason: 'never-offered' },
      { eventId: '9-0', reason: 'never-offered' },
      { eventId: 'dlq/0/0 AAAA', reason: 'untraced' },
      { eventId: '(untraced)', reason: 'untraced' },
    ]);
    expect(r.counts).toMatchObject({ unexpected: 7, deadLettered: 1, dlqRecords: 8 });
    expect(r.byReason).toEqual({ '(none)': 1, oops: 2, schema: 5 });
  });

  it('a bad event in the output is unexpected, as exactly-once says too', () => {
    const h = historyOf([...send('0-0'), ...send('0-1', 'failed'), seen('0-0'), seen('0-1', 1), drained]);
    const r = checkAccounting(h, ledgerOf([['0-0', 'schema']]));
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['unexpected']);
    expect(r.inOutput).toEqual(['0-0', '0-1']);
    expect(r.counts).toMatchObject({ inOutput: 2, deadLettered: 1 });
    expect(checkExactlyOnce(h).unexpected).toEqual([
      { eventId: '0-0', reason: 'bad-event-in-output' },
      { eventId: '0-1', reason: 'bad-event-in-output' },
    ]);
  });

  it('no bad event and an empty DLQ: nothing wrong, said so', () => {
    const r = checkAccounting(historyOf([...send('0-0', 'acked', true), drained]), ledgerOf([]));
    expect(r.valid).toBe(true);
    expect(r.counts.bad).toBe(0);
    expect(r.reason).toMatch(/no bad event was offered and the DLQ is empty/);
  });

  it('caps examples, counts everything; the checker reads its ledger when it runs', () => {
    const h = historyOf([...Array.from({ length: 10 }, (_, i) => send(`0-${i}`)).flat(), drained]);
    const r = checkAccounting(h, ledgerOf([]), { maxExamples: 2 });
    expect(r.missing).toEqual(['0-0', '0-1']);
    expect(r.counts.missing).toBe(10);
    expect(() => checkAccounting(h, ledgerOf([]), { maxExamples: -1 })).toThrowError(/accounting\.maxExamples/);
    let ledger = ledgerOf([]);
    const checker = accounting(() => ledger);
    expect(checker.name).toBe('accounting');
    expect(checker.check(h).valid).toBe(false);
    ledger = ledgerOf(Array.from({ length: 10 }, (_, i) => [`0-${i}`, 'schema'] as const));
    expect(checker.check(h).valid).toBe(true);
  });

  it('end to end: the load bad records, read back by the DLQ collector, account for every bad slot', () => {
    const bad = resolveBadEvents({ rate: 1 }, 'events.bad');
    const spec = referenceDlq('events');
    const collector = createDlqCollector(spec);
    const records: HistoryRecord[] = [];
    for (let seq = 0; seq < 20; seq++) {
      const id = `0-${seq}`;
      records.push(...send(id));
      const good = {
        event: {
          event_id: id,
          user_id: 'u0000001',
          user_seq: seq,
          type: 'click' as const,
          channel: 'search' as const,
          campaign: 'c',
          event_time: 1_700_000_000_000,
          sent_at: 1_700_000_000_000,
          revenue: null,
          currency: null,
          schema_version: 1 as const,
        },
        version: 1 as const,
        schemaId: 1,
      };
      const letter = badEventAt(bad, 5, 0, seq, good);
      collector.decode({
        key: 'u0000001',
        value: letter.bytes,
        headers: new Map([[spec.reasonHeader, Buffer.from(letter.kind)]]),
        partition: 0,
        offset: seq,
        time: 60,
      });
    }
    collector.decode({
      key: undefined,
      value: Buffer.from('junk'),
      headers: new Map(),
      partition: 0,
      offset: 20,
      time: 61,
    });
    const r = collector.checker().check(historyOf([...records, drained]));
    expect(r.counts).toMatchObject({ bad: 20, deadLettered: 20, unexpected: 1, dlqRecords: 21 });
    expect(r.unexpected).toEqual([{ eventId: 'events.dlq/0/20 anVuaw==', reason: 'untraced' }]);
    expect(r.byReason['(none)']).toBe(1);
  });
});
