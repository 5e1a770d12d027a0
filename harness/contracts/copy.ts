/**
 * The copy contract: the output is the input, unchanged. Each output record is one of the generator's events (JSON or
 * Confluent-framed Avro with the run's own schemas) and is recorded in the history as it is read; the exactly-once
 * checker judges the history's bitsets (every acked event exactly once, nothing else).
 *
 * After an incomplete drain, a missing event whose input record the SUT group committed past is `lost`, the others
 * `unseen` (their fate is unknown): `finish` reads the input back up to the committed offsets to tell them apart.
 */
import { decodeAvro, decodeConfluent, decodeJson } from '../../generators/schemas.ts';
import { countMissing, exactlyOnce, listExactlyOnceAnomalies } from '../checkers/index.ts';
import type { History } from '../history/index.ts';
import type { ContractFinish, ContractRun, ContractSetup, OutputRecord, Sighting } from './contract.ts';

interface EventFields {
  event_id: string;
  user_seq: number;
  sent_at: number;
}

/** The generator's event in an output value (JSON or Confluent-framed Avro with the run's schemas); throws otherwise. */
export function copyDecoder(setup: Pick<ContractSetup, 'format' | 'versionOf'>): (r: OutputRecord) => Sighting {
  const sighting = (e: EventFields): Sighting => ({ eventId: e.event_id, userSeq: e.user_seq, sentAt: e.sent_at });
  if (setup.format === 'json') return (r) => sighting((r.row ?? decodeJson(r.value)) as EventFields);
  return (r) => {
    if (r.row) return sighting(r.row as unknown as EventFields);
    const { schemaId, body } = decodeConfluent(r.value);
    const v = setup.versionOf(schemaId);
    if (v === undefined) throw new Error(`unknown schema id ${schemaId}`);
    return sighting(decodeAvro(body, v) as EventFields);
  };
}

/** Acked events not (yet) seen in the output. */
function missingIds(history: History): Set<string> {
  const l = listExactlyOnceAnomalies(history);
  return new Set([...l.lost, ...l.unseen]);
}

export function createCopyContract(setup: ContractSetup): ContractRun {
  let consumed: string[] = [];
  return {
    name: 'copy',
    decode: copyDecoder(setup),
    nothingMissing: (history) => countMissing(history) === 0,
    keyAffinity: true,
    async finish(ctx: ContractFinish) {
      consumed = [];
      if (ctx.drainComplete || Object.keys(ctx.committed).length === 0) return;
      const missing = missingIds(ctx.history);
      if (missing.size === 0) return;
      for (const r of await ctx.input()) {
        const c = ctx.committed[String(r.partition)];
        if (c === undefined || r.offset >= c || !r.event) continue;
        if (missing.has(r.event.event_id)) consumed.push(r.event.event_id);
      }
    },
    consumedPast: () => consumed,
    checkers: () => [exactlyOnce()],
    anomalies: (history) => listExactlyOnceAnomalies(history),
  };
}
