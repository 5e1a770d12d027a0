/**
 * A live schema switch of the load (schema-upgrade): with a fake clock and acking fake senders, a 2-producer load
 * switched from v2 (id 5) to v3 (id 9) in its middle sends every record before the switch as v2 and every record after
 * it as v3 (the events generated ahead are written again), each body of its id's version; the stream goes on: every
 * user's user_seq counts on without a gap or a repeat across the switch, and no event id repeats.
 */
import { describe, expect, it } from 'vitest';
import { createBulkGenerator } from '../../generators/bulk.ts';
import type { Event } from '../../generators/event.ts';
import { decodeAvro, decodeConfluent, decodeJson, EVENT_TYPES_AVRO, encodeJson } from '../../generators/schemas.ts';
import type { History, HistoryRecord } from '../history/index.ts';
import { FakeClock } from './clock.ts';
import { type LaneSender, LoadDriver, type OutMessage } from './driver.ts';
import { PartitionSource, rewriteValue } from './event-source.ts';
import { resolveLoadOptions } from './options.ts';

class AckingSender implements LaneSender {
  sent: { at: number; m: OutMessage }[] = [];
  constructor(private readonly clock: FakeClock) {}
  send(messages: OutMessage[], done: (error?: unknown) => void): void {
    for (const m of messages) this.sent.push({ at: this.clock.now(), m });
    this.clock.setTimer(() => done(), 2);
  }
  outcomes() {
    return () => 'unknown' as const;
  }
  describe(): string {
    return 'never';
  }
  reset(): void {}
  async close(): Promise<void> {}
}

const START = 1_800_000_000_000;

describe('load: live schema switch', () => {
  it('v2 before the switch, v3 after it (events generated ahead included), the stream unbroken', async () => {
    const clock = new FakeClock();
    const records: HistoryRecord[] = [];
    const history = { record: (r: HistoryRecord) => records.push(r) } as unknown as History;
    const cfg = resolveLoadOptions({
      bootstrap: '127.0.0.1:9092',
      topic: 't',
      history,
      generator: { seed: 9, users: 200, schemaVersion: 2, schemaId: 5 },
      rate: 2000,
      duration: '2s',
      producers: 2,
      startAt: START,
    });
    const senders = [new AckingSender(clock), new AckingSender(clock)];
    const driver = new LoadDriver(cfg, { history, clock, partitions: 4, senders, startTime: START });
    driver.start();
    clock.advance(START + 1000 - clock.now());
    const switchAt = records.length; // the history records before the switch
    driver.switchSchema(3, 9);
    clock.advance(START + 10_000 - clock.now());
    const summary = await driver.done;
    expect(summary.acked).toBe(4000);

    const offeredAt = new Map<string, number>(); // event id -> index of its offered record
    records.forEach((r, i) => {
      if (r.kind === 'offered') offeredAt.set(r.eventId, i);
    });
    const sent = senders.flatMap((s) => s.sent);
    expect(sent.length).toBe(4000);
    const bySeq = new Map<string, number[]>();
    const ids = new Set<string>();
    let before = 0;
    let after = 0;
    for (const { m } of sent) {
      const { schemaId, body } = decodeConfluent(m.value);
      const version = schemaId === 5 ? 2 : schemaId === 9 ? 3 : undefined;
      expect(version, `schema id ${schemaId}`).toBeDefined();
      const e = decodeAvro(body, version!) as Event;
      // Offered (handed to the lane) before the switch: v2, even when sent later; offered after it: v3.
      const at = offeredAt.get(e.event_id)!;
      expect(schemaId, `${e.event_id} offered as record ${at}`).toBe(at < switchAt ? 5 : 9);
      if (at < switchAt) before++;
      else after++;
      expect(e.schema_version).toBe(version);
      if (version === 3) expect((e as Extract<Event, { consent: unknown }>).consent).toBeDefined();
      ids.add(e.event_id);
      const seqs = bySeq.get(e.user_id) ?? [];
      seqs.push(e.user_seq);
      bySeq.set(e.user_id, seqs);
    }
    expect(before).toBeGreaterThan(1500);
    expect(after).toBeGreaterThan(1500);
    expect(ids.size).toBe(4000);
    for (const [user, seqs] of bySeq) {
      expect(
        seqs.sort((a, b) => a - b),
        user,
      ).toEqual(seqs.map((_, i) => i));
    }
  });

  it('a switch to the same version under a new id (a custom schema) frames the pending events anew', () => {
    const gen = createBulkGenerator({ seed: 3, users: 50, schemaVersion: 3, schemaId: 5, ratePerSec: 1000 });
    const src = new PartitionSource(gen, Number.POSITIVE_INFINITY, 0, 't', 4, 0, 1, undefined);
    expect(src.refill()).toBe(true);
    src.head = 10;
    src.switchSchema(3, 8);
    const idOf = (i: number) => decodeConfluent(src.msgs[i]!.value).schemaId;
    expect([idOf(9), idOf(10), idOf(src.msgs.length - 1)]).toEqual([5, 8, 8]);
    expect(decodeAvro(decodeConfluent(src.msgs[10]!.value).body, 3).schema_version).toBe(3);
    src.head = src.msgs.length;
    expect(src.refill()).toBe(true);
    expect(idOf(0)).toBe(8);
  });

  it('rewriteValue writes an event again in another version (JSON and Avro, down and framed anew)', () => {
    const v3 = {
      event_id: '0-1',
      user_id: 'u0000001',
      user_seq: 0,
      type: 'click',
      channel: 'email',
      campaign: 'cmp-0001',
      event_time: START,
      sent_at: START,
      revenue: null,
      currency: null,
      schema_version: 3,
      device: 'mobile',
      consent: { analytics: false, ads: true },
    } as const;
    const down = decodeJson(rewriteValue(encodeJson(v3 as unknown as Event), 'json', 3, 1, 0), 1);
    expect(down).toEqual({ ...v3, schema_version: 1, device: undefined, consent: undefined });
    const avro3 = Buffer.concat([Buffer.from([0, 0, 0, 0, 5]), EVENT_TYPES_AVRO[3].toBuffer(v3)]);
    const up = rewriteValue(avro3, 'avro', 3, 2, 77);
    expect(decodeConfluent(up).schemaId).toBe(77);
    expect(decodeAvro(decodeConfluent(up).body, 2)).toEqual({
      ...v3,
      schema_version: 2,
      consent: undefined,
    });
  });
});
