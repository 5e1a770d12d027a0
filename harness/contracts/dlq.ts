/**
 * The dead-letter queue (`sut.dlq`): where the pipeline puts what it refuses, and how each dead letter is read.
 *
 * `{ "topic": "events.dlq", "reason": "header:streamproof-dlq-reason" }`: the runner reads `topic` (read_committed,
 * like the output) and hands every record to `DlqCollector.decode`. Each dead letter is traced to the event id its
 * value carries (`traceEventId`: a bad event of the load keeps its slot's id by construction, verbatim or re-encoded
 * as JSON, and a good event dead-lettered carries its own), and its reason is the named header. The `accounting`
 * checker then judges the ledger against the history's bad bitset.
 *
 * Memory: one map entry per traced dead letter (the bad events, a few percent of the load), the rest counted.
 */
import { traceEventId } from '../../generators/bad-slots.ts';
import { type AccountingOptions, type AccountingResult, accounting, type DlqLedger } from '../checkers/accounting.ts';
import type { Checker } from '../checkers/types.ts';
import { StreamproofError } from '../util/errors.ts';
import type { OutputRecord } from './contract.ts';

export interface DlqSpec {
  readonly topic: string;
  /** The header that holds a dead letter's reason (UTF-8). */
  readonly reasonHeader: string;
}

/** The reference pipeline's DLQ: `STREAMPROOF_DLQ_TOPIC` (`<input>.dlq`), the reason in `streamproof-dlq-reason`. */
export function referenceDlq(inputTopic: string): DlqSpec {
  return { topic: `${inputTopic}.dlq`, reasonHeader: 'streamproof-dlq-reason' };
}

function invalid(path: string, message: string): StreamproofError {
  return new StreamproofError('INVALID_SCENARIO', `${path}: ${message}`, { path });
}

/** Validates `sut.dlq` (`path` names it: `sut.dlq`); throws StreamproofError INVALID_SCENARIO (exit 64). */
export function validateDlq(raw: unknown, path: string): DlqSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw invalid(path, `expected an object { topic, reason }, got ${JSON.stringify(raw)}`);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (k !== 'topic' && k !== 'reason') throw invalid(`${path}.${k}`, 'unknown field (known: topic, reason)');
  if (typeof o.topic !== 'string' || !/^[A-Za-z0-9._-]{1,249}$/.test(o.topic))
    throw invalid(`${path}.topic`, `expected a Kafka topic name, got ${JSON.stringify(o.topic)}`);
  const reason = o.reason;
  const m = typeof reason === 'string' ? /^header:(.+)$/.exec(reason) : null;
  if (!m) throw invalid(`${path}.reason`, `expected "header:<name>", got ${JSON.stringify(reason)}`);
  return { topic: o.topic, reasonHeader: m[1]! };
}

export interface DlqCollector {
  readonly spec: DlqSpec;
  /** One record of the DLQ topic (the runner calls it for each, as read). Never throws. */
  decode(record: OutputRecord): void;
  /** What was read so far. */
  ledger(): DlqLedger;
  /** The `accounting` checker over this collector's ledger. */
  checker(options?: AccountingOptions): Checker<AccountingResult>;
}

const MAX_UNTRACED_EXAMPLES = 20;

export function createDlqCollector(spec: DlqSpec): DlqCollector {
  const byId = new Map<string, (string | undefined)[]>();
  const byReason: Record<string, number> = {};
  const untracedExamples: string[] = [];
  let untraced = 0;
  let total = 0;
  const collector: DlqCollector = {
    spec,
    decode(r) {
      total++;
      const reason = r.headers.get(spec.reasonHeader)?.toString('utf8') || undefined;
      const label = reason ?? '(none)';
      byReason[label] = (byReason[label] ?? 0) + 1;
      const id = traceEventId(r.value);
      if (id === undefined) {
        untraced++;
        if (untracedExamples.length < MAX_UNTRACED_EXAMPLES)
          untracedExamples.push(
            `${spec.topic}/${r.partition}/${r.offset} ${r.value.subarray(0, 24).toString('base64')}`,
          );
        return;
      }
      const list = byId.get(id);
      if (list) list.push(reason);
      else byId.set(id, [reason]);
    },
    ledger: () => ({ byId, untraced, untracedExamples, total, byReason }),
    checker: (options) => accounting(() => collector.ledger(), options),
  };
  return collector;
}
