/**
 * The attribution contract: the SUT turns events into attribution records. The runner gathers the output records
 * (observer), then, after the drain, reads back the input topic (what really landed, unknown sends resolved), runs
 * the model over it and hands both to the attribution checker. For latency and per-user order it records, for each
 * conversion, its first output record as an `observed` history record carrying the conversion's user_seq and
 * intended send time, so the standard latency, order and SLO checkers apply unchanged.
 */

import type { Event } from '../../generators/event.ts';
import { attribute } from '../../reference-pipeline/model/index.ts';
import { attribution, type ExpectedAttribution, type ObservedAttribution } from '../checkers/attribution.ts';
import type { ContractRun } from '../contracts/contract.ts';
import type { History } from '../history/index.ts';
import type { Decoder } from './observer.ts';

interface Sighting {
  conversionId: string;
  key: string | undefined;
  partition: number;
  offset: number;
  time: number;
}

export class AttributionCollector {
  readonly observed: ObservedAttribution[] = [];
  expected: ExpectedAttribution[] = [];
  private readonly firstSighting = new Map<string, Sighting>();
  inputEvents = 0;
  rejected = 0;

  /** Observer decoder: keeps every attribution record; values that are not one count as undecodable. */
  readonly decoder: Decoder = (rec) => {
    const meta = { key: rec.key, partition: rec.partition, offset: rec.offset, time: rec.time };
    const r = JSON.parse(rec.value.toString('utf8')) as Record<string, unknown>;
    if (typeof r.record_id !== 'string' || typeof r.conversion_id !== 'string' || typeof r.credit !== 'number') {
      throw new Error('not an attribution record (record_id, conversion_id, credit)');
    }
    this.observed.push({
      recordId: r.record_id,
      credit: r.credit,
      revenueMinor: typeof r.revenue_credit_minor === 'number' ? r.revenue_credit_minor : null,
    });
    if (!this.firstSighting.has(r.conversion_id)) {
      this.firstSighting.set(r.conversion_id, { conversionId: r.conversion_id, ...meta });
    }
    return null;
  };

  /** After the drain: over the input that landed, compute the model's output, record conversions into the history. */
  finish(events: readonly Event[], history: History): void {
    this.inputEvents = events.length;
    const result = attribute(events);
    this.rejected = result.rejections.length;
    this.expected = result.records;
    const byId = new Map<string, Event>();
    for (const e of events) if (e.type === 'conversion') byId.set(e.event_id, e);
    for (const s of this.firstSighting.values()) {
      const conv = byId.get(s.conversionId);
      history.record({
        kind: 'observed',
        time: s.time,
        eventId: s.conversionId,
        key: s.key,
        partition: s.partition,
        offset: s.offset,
        userSeq: conv?.user_seq,
        sentAt: conv?.sent_at,
      });
    }
  }
}

/** The attribution contract through the contract interface. */
export function attributionContract(): ContractRun {
  const c = new AttributionCollector();
  return {
    name: 'attribution',
    decode: c.decoder,
    keyAffinity: true,
    async finish(ctx) {
      const events: Event[] = [];
      for (const r of await ctx.input()) if (r.event) events.push(r.event);
      c.finish(events, ctx.history);
    },
    checkers: () => [
      attribution(
        () => c.expected,
        () => c.observed,
        { creditTolerance: 1e-9 },
      ),
    ],
    anomalies: (_h, composed) => composed.results.attribution,
  };
}
