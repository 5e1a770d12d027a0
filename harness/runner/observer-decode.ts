/**
 * What an output record becomes in the history: the contract's decoder turns it into a sighting (recorded as an
 * `observed` record), or keeps it for later (null); a record that does not decode is recorded as undecodable, never
 * dropped.
 */
import { type OutputRecord, recordUndecodable, type Sighting } from '../contracts/contract.ts';
import type { History } from '../history/index.ts';

/** Decodes an output record; `null` means the caller keeps the record itself (nothing goes to the history yet). */
export type Decoder = (record: OutputRecord) => Sighting | null;

const NO_HEADERS: ReadonlyMap<string, Buffer> = new Map();

/** Record headers as a map of name -> first value (null names and values skipped). */
export function headerMap(headers: ReadonlyArray<readonly [Buffer | null, Buffer | null]> | undefined) {
  if (!headers || headers.length === 0) return NO_HEADERS;
  const m = new Map<string, Buffer>();
  for (const [k, v] of headers) {
    if (k === null || v === null) continue;
    const name = k.toString('utf8');
    if (!m.has(name)) m.set(name, v);
  }
  return m;
}

/** Records one decoded-or-undecodable sighting of `r` in `h`. */
export function recordSighting(h: History, r: OutputRecord, s: Sighting | Error): void {
  if (s instanceof Error) {
    recordUndecodable(h, r, s);
    return;
  }
  h.record({
    kind: 'observed',
    time: r.time,
    eventId: s.eventId,
    key: r.key,
    partition: r.partition,
    offset: r.offset,
    userSeq: s.userSeq,
    sentAt: s.sentAt,
  });
}

/** Decodes `r` and records it in `h` (unless `decode` keeps it), then hands it to `onRecord`. */
export function recordObserved(
  h: History,
  decode: Decoder,
  onRecord: ((r: OutputRecord) => void) | undefined,
  r: OutputRecord,
): void {
  let s: Sighting | Error | null;
  try {
    s = decode(r);
  } catch (err) {
    s = err instanceof Error ? err : new Error(String(err));
  }
  if (s !== null) recordSighting(h, r, s);
  onRecord?.(r);
}
