/**
 * Produce responses (v8) for the fast sender: the per-partition error codes, their names, and which of them the Java
 * producer retries.
 */
import { protocolErrorsCodesById } from '@platformatic/kafka';

/** Produce codes the Java producer retries (RetriableException): the same batch may be sent again. */
export const RETRIABLE: ReadonlySet<string> = new Set([
  'CORRUPT_MESSAGE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'KAFKA_STORAGE_ERROR',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
]);
/** Of those, the ones that mean "ask for metadata again": the leader moved or is not known yet. */
export const LEADERSHIP: ReadonlySet<string> = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
]);

/** The protocol name of an error code (`NOT_LEADER_OR_FOLLOWER`). */
export function errorName(code: number): string {
  return (protocolErrorsCodesById as Record<number, string>)[code] ?? `error code ${code}`;
}

/** Produce response v8: per partition (index, error code, error message). */
export function parseProduceResponse(b: Buffer, each: (partition: number, code: number, message: string) => void) {
  let o = 0;
  const topics = b.readInt32BE(o);
  o += 4;
  for (let t = 0; t < topics; t++) {
    const nameLen = b.readInt16BE(o);
    o += 2 + Math.max(0, nameLen);
    const parts = b.readInt32BE(o);
    o += 4;
    for (let k = 0; k < parts; k++) {
      const index = b.readInt32BE(o);
      const code = b.readInt16BE(o + 4);
      o += 4 + 2 + 8 + 8 + 8; // base offset, log append time, log start offset
      const recordErrors = b.readInt32BE(o);
      o += 4;
      for (let r = 0; r < recordErrors; r++) {
        o += 4;
        const l = b.readInt16BE(o);
        o += 2 + Math.max(0, l);
      }
      const ml = b.readInt16BE(o);
      o += 2;
      const message = ml > 0 ? b.toString('utf8', o, o + ml) : '';
      o += Math.max(0, ml);
      each(index, code, message);
    }
  }
}
