/**
 * The input as it landed: the input topic read back once after the drain (read_committed), each record decoded into
 * the generator's event when it is one. Contracts judge by this (unknown sends resolved by what really landed).
 */
import type { Event } from '../../generators/event.ts';
import { decodeAvro, decodeConfluent, decodeJson } from '../../generators/schemas.ts';
import { readTopic } from '../kafka/read-topic.ts';
import type { InputRecord } from './contract.ts';

/** The generator's event in `value`, or undefined when it is not one (a bad event, or bytes the harness did not write). */
export function decodeInputEvent(
  value: Buffer,
  format: 'json' | 'avro',
  versionOf: (schemaId: number) => 1 | 2 | 3 | undefined,
): Event | undefined {
  try {
    if (format === 'json') {
      const e = decodeJson(value) as Event;
      return typeof e?.event_id === 'string' ? e : undefined;
    }
    const { schemaId, body } = decodeConfluent(value);
    const v = versionOf(schemaId);
    return v === undefined ? undefined : (decodeAvro(body, v) as Event);
  } catch {
    return undefined;
  }
}

/** Reads the input topic once, on first call; later calls share the same promise. */
export function inputReader(opts: {
  bootstrap: string;
  topic: string;
  format: 'json' | 'avro';
  versionOf: (schemaId: number) => 1 | 2 | 3 | undefined;
}): () => Promise<readonly InputRecord[]> {
  let read: Promise<readonly InputRecord[]> | undefined;
  return () => {
    read ??= readTopic(opts.bootstrap, opts.topic).then((raw) =>
      raw.map((r) => ({
        key: r.key?.toString('utf8'),
        value: r.value,
        partition: r.partition,
        offset: Number(r.offset),
        event: decodeInputEvent(r.value, opts.format, opts.versionOf),
      })),
    );
    return read;
  };
}
