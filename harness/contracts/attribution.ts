/**
 * The attribution contract: the reference model (reference-pipeline/model, `attribute`) plugged into the model
 * contract. Each attribution record comes out exactly once (`once`, keyed by its stable `record_id`), with the
 * model's credit (within 1e-9: time-decay credits are floating point) and revenue share in minor units (exactly).
 * Outputs are Kafka records with a JSON value or rows of the reference lake sink's `attributions` table. Latency and
 * per-user order are per conversion: its first correct record is recorded with the conversion's user_seq and sent_at.
 * This is the only harness module that imports the reference model.
 */
import type { Event } from '../../generators/event.ts';
import { type AttributionInput, type AttributionRecord, attributeEach } from '../../reference-pipeline/model/index.ts';
import type { ContractRun, OutputRecord } from './contract.ts';
import { createModelContractFrom } from './model.ts';
import type { PipelineModel } from './model-api.ts';

/** What is compared of an attribution record (record_id is the key). */
export interface AttributionValue {
  readonly conversion_id: string;
  readonly credit: number;
  /** Revenue share in integer minor units; null when the conversion has no revenue. */
  readonly revenue_credit_minor: number | null;
}

export const CREDIT_TOLERANCE = 1e-9;

function cell(v: unknown): unknown {
  return typeof v === 'bigint' ? Number(v) : v;
}

/** An attribution output (JSON value, or a lake row) -> record_id and the compared fields; throws on anything else. */
export function decodeAttribution(record: OutputRecord): { key: string; value: AttributionValue } {
  const r = (record.row ?? JSON.parse(record.value.toString('utf8'))) as Record<string, unknown>;
  const credit = cell(r?.credit);
  const minor = cell(r?.revenue_credit_minor ?? null);
  if (typeof r?.record_id !== 'string' || typeof r.conversion_id !== 'string' || typeof credit !== 'number') {
    throw new Error('not an attribution record (record_id, conversion_id, credit)');
  }
  if (minor !== null && typeof minor !== 'number') throw new Error('revenue_credit_minor is neither a number nor null');
  return { key: r.record_id, value: { conversion_id: r.conversion_id, credit, revenue_credit_minor: minor } };
}

export const attributionModel: PipelineModel<undefined, AttributionValue> = {
  compare: 'once',
  decode: decodeAttribution,
  // Lazily, record by record: the contract keeps only the compared fields of each (millions in a soak).
  *final(events) {
    for (const r of attributeEach(events as readonly AttributionInput[])) {
      if ('record_id' in r)
        yield [
          r.record_id,
          { conversion_id: r.conversion_id, credit: r.credit, revenue_credit_minor: r.revenue_credit_minor },
        ];
    }
  },
  equals: (e, o) =>
    Math.abs(o.credit - e.credit) <= CREDIT_TOLERANCE &&
    (o.revenue_credit_minor ?? null) === (e.revenue_credit_minor ?? null),
};

/** The attribution contract (checker `attribution`). */
export function createAttributionContract(options: { readonly outputsInMemory?: number } = {}): ContractRun {
  return createModelContractFrom(attributionModel, {
    ...options,
    name: 'attribution',
    path: 'sut.contract',
    keyAffinity: true,
    sourceOf: (expected, eventById): Event | undefined => eventById(expected.value.conversion_id),
  });
}

/** The attribution records the reference model makes of these events (what the reference lake must hold), lazily. */
export function* expectedAttributionRecords(events: readonly Event[]): Generator<AttributionRecord> {
  for (const r of attributeEach(events as readonly AttributionInput[])) if ('record_id' in r) yield r;
}
