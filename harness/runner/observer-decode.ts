/**
 * What an output record becomes in the history: the observer's decoders, and the `observed` record (a value that does
 * not decode is recorded as undecodable, never dropped).
 */
import { decodeAvro, decodeConfluent, decodeJson } from '../../generators/schemas.ts';
import type { History } from '../history/index.ts';

export interface DecodedEvent {
  eventId: string;
  userSeq: number;
  sentAt: number;
}

/** Decodes an output value; `null` means the caller keeps the record itself (nothing goes to the history yet). */
export type Decoder = (
  value: Buffer,
  meta: { key: string | undefined; partition: number; offset: number; time: number },
) => DecodedEvent | null;

/** Decoder for the copy contract: values are the generator's events, JSON or Confluent-framed Avro. */
export function eventDecoder(
  format: 'json' | 'avro',
  versionOfSchemaId: (id: number) => 1 | 2 | 3 | undefined,
): Decoder {
  if (format === 'json') {
    return (value) => {
      const e = decodeJson(value) as { event_id: string; user_seq: number; sent_at: number };
      return { eventId: e.event_id, userSeq: e.user_seq, sentAt: e.sent_at };
    };
  }
  return (value) => {
    const { schemaId, body } = decodeConfluent(value);
    const v = versionOfSchemaId(schemaId);
    if (v === undefined) throw new Error(`unknown schema id ${schemaId}`);
    const e = decodeAvro(body, v) as { event_id: string; user_seq: number; sent_at: number };
    return { eventId: e.event_id, userSeq: e.user_seq, sentAt: e.sent_at };
  };
}

/**
 * Records one output record, received at `now`, in `h` (unless `decode` returns null), then hands it to `onRecord`.
 */
export function recordObserved(
  h: History,
  decode: Decoder,
  onRecord: ((key: Buffer | undefined, value: Buffer, partition: number, offset: bigint) => void) | undefined,
  p: number,
  key: Buffer | undefined,
  value: Buffer,
  offset: bigint,
  now: number,
): void {
  const k = key ? key.toString('utf8') : undefined;
  const off = Number(offset);
  try {
    const e = decode(value, { key: k, partition: p, offset: off, time: now });
    if (e)
      h.record({
        kind: 'observed',
        time: now,
        eventId: e.eventId,
        key: k,
        partition: p,
        offset: off,
        userSeq: e.userSeq,
        sentAt: e.sentAt,
      });
  } catch (err) {
    h.record({
      kind: 'observed',
      time: now,
      eventId: undefined,
      key: k,
      partition: p,
      offset: off,
      userSeq: undefined,
      sentAt: undefined,
      raw: value.subarray(0, 256).toString('base64'),
      decodeError: (err as Error).message,
    });
  }
  onRecord?.(key, value, p, offset);
}
