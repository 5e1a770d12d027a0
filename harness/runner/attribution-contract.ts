/**
 * The attribution contract: the SUT turns events into attribution records. The runner gathers the output records
 * (observer), then, after the drain, reads back the input topic (what really landed, unknown sends resolved), runs
 * the model over it and hands both to the attribution checker. For latency and per-user order it records, for each
 * conversion, its first output record as an `observed` history record carrying the conversion's user_seq and
 * intended send time, so the standard latency, order and SLO checkers apply unchanged.
 */

import type { Event } from '../../generators/event.ts';
import { decodeAvro, decodeConfluent, decodeJson } from '../../generators/schemas.ts';
import { attribute } from '../../reference-pipeline/model/index.ts';
import type { ExpectedAttribution, ObservedAttribution } from '../checkers/attribution.ts';
import type { History } from '../history/index.ts';
import type { Decoder } from './observer.ts';
import { readTopic } from './read-topic.ts';

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
  readonly decoder: Decoder = (value, meta) => {
    const r = JSON.parse(value.toString('utf8')) as Record<string, unknown>;
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

  /** After the drain: read the input back, compute the model's output, record conversions into the history. */
  async finish(opts: {
    bootstrap: string;
    inputTopic: string;
    format: 'json' | 'avro';
    versionOf: (schemaId: number) => 1 | 2 | 3 | undefined;
    history: History;
  }): Promise<void> {
    const raw = await readTopic(opts.bootstrap, opts.inputTopic);
    const events: Event[] = [];
    for (const r of raw) {
      try {
        if (opts.format === 'json') events.push(decodeJson(r.value) as Event);
        else {
          const { schemaId, body } = decodeConfluent(r.value);
          const v = opts.versionOf(schemaId);
          if (v) events.push(decodeAvro(body, v) as Event);
        }
      } catch {
        // An input record the harness cannot decode was not written by the harness; the model skips it too.
      }
    }
    this.inputEvents = events.length;
    const result = attribute(events);
    this.rejected = result.rejections.length;
    this.expected = result.records;
    const byId = new Map<string, Event>();
    for (const e of events) if (e.type === 'conversion') byId.set(e.event_id, e);
    for (const s of this.firstSighting.values()) {
      const conv = byId.get(s.conversionId);
      opts.history.record({
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
