/**
 * What a failed `Producer.send` of @platformatic/kafka means for each partition of the request: `acked`, `failed`
 * (definitely not written) or `unknown` (may or may not have been written: Jepsen's :info).
 *
 * Model: the client retries a produce request several times and, when it gives up, reports every attempt's error
 * (a `MultipleErrors` chain; a broker answer with error codes is a `ResponseError` of per-partition `ProtocolError`s).
 * A write is `failed` only if *every* attempt provably did not append it:
 * - the request never left: a connection that could not be opened (`Connection to h:p failed.` / `timed out.`), a
 *   client already closed, a user error (validation, serialisation) raised before sending;
 * - or the broker answered with a code it returns *before* appending (not leader, too large, not authorised, not
 *   enough replicas, invalid record, sequence/epoch rejections...).
 * Anything else makes it `unknown`: a connection closed with the request in flight, a request timeout, a broker
 * `REQUEST_TIMED_OUT` / `NOT_ENOUGH_REPLICAS_AFTER_APPEND` (appended on the leader, replication not confirmed), an
 * unknown server error, any error we do not recognise. Unrecognised means unknown, never failed: a false `failed`
 * turns into an `unexpected` anomaly when the record shows up in the output.
 * Partitions the *last* attempt's broker answer reports with error code 0 are `acked` (the broker appended and, with
 * acks=all, replicated them).
 */
import type { Outcome } from '../history/index.ts';

/** Broker error codes of a produce response that mean "rejected, nothing appended". */
export const DEFINITE_PRODUCE_ERRORS: ReadonlySet<string> = new Set([
  'CORRUPT_MESSAGE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'MESSAGE_TOO_LARGE',
  'INVALID_TOPIC_EXCEPTION',
  'RECORD_LIST_TOO_LARGE',
  'NOT_ENOUGH_REPLICAS',
  'INVALID_REQUIRED_ACKS',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'INVALID_TIMESTAMP',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'UNSUPPORTED_VERSION',
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'INVALID_PRODUCER_EPOCH',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_ID_MAPPING',
  'INVALID_TXN_STATE',
  'INVALID_RECORD',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'THROTTLING_QUOTA_EXCEEDED',
  'POLICY_VIOLATION',
]);

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  apiId?: unknown;
  path?: unknown;
  closed?: unknown;
  errors?: unknown;
  response?: unknown;
}

/** Per-partition outcome of a produce that ended in `error`. */
export function produceOutcome(error: unknown, topic: string): (partition: number) => Outcome {
  const attempts = attemptsOf(error);
  const last = attempts[attempts.length - 1];
  const ackedInLast = ackedPartitions(last, topic);
  // Per partition: does every attempt provably not append it?
  const cache = new Map<number, Outcome>();
  return (partition) => {
    let o = cache.get(partition);
    if (o !== undefined) return o;
    if (ackedInLast.has(partition)) o = 'acked';
    else o = attempts.every((a) => attemptDefinitelyNotWritten(a, topic, partition)) ? 'failed' : 'unknown';
    cache.set(partition, o);
    return o;
  };
}

/** A short, human message for the history (`error` of failed / unknown outcomes). */
export function describeError(error: unknown): string {
  const leaves = leavesOf(error);
  const parts = leaves.map((e) => {
    const id = typeof e.apiId === 'string' ? e.apiId : undefined;
    const msg = typeof e.message === 'string' ? e.message : String(e);
    return id === undefined ? msg : `${id}: ${msg}`;
  });
  const uniq = [...new Set(parts)];
  const text = uniq.slice(0, 3).join('; ') + (uniq.length > 3 ? `; ... (${uniq.length} distinct)` : '');
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/** The attempts of a retried operation: the elements of a `MultipleErrors` that is not a broker response. */
function attemptsOf(error: unknown): ErrorLike[] {
  const e = error as ErrorLike | null | undefined;
  if (e !== null && typeof e === 'object' && e.code === 'PLT_KFK_MULTIPLE' && Array.isArray(e.errors)) {
    return (e.errors as unknown[]).map((x) => (x ?? {}) as ErrorLike);
  }
  return [(e ?? {}) as ErrorLike];
}

function leavesOf(error: unknown, out: ErrorLike[] = []): ErrorLike[] {
  const e = error as ErrorLike | null | undefined;
  if (e === null || typeof e !== 'object') {
    out.push({ message: String(error) });
    return out;
  }
  if (Array.isArray(e.errors) && e.errors.length > 0) {
    for (const x of e.errors as unknown[]) leavesOf(x, out);
  } else {
    out.push(e);
  }
  return out;
}

function attemptDefinitelyNotWritten(attempt: ErrorLike, topic: string, partition: number): boolean {
  if (attempt.code === 'PLT_KFK_RESPONSE') return responseRejected(attempt, topic, partition);
  if (attempt.code === 'PLT_KFK_MULTIPLE' && Array.isArray(attempt.errors)) {
    // A nested retry chain (e.g. a metadata refresh that retried): every element must be definite.
    return (attempt.errors as unknown[]).every((x) =>
      attemptDefinitelyNotWritten((x ?? {}) as ErrorLike, topic, partition),
    );
  }
  return neverLeft(attempt);
}

/** Errors raised before the request was written to a socket. */
function neverLeft(e: ErrorLike): boolean {
  const msg = typeof e.message === 'string' ? e.message : '';
  if (e.code === 'PLT_KFK_USER') return !/closed while retrying/.test(msg);
  if (e.code === 'PLT_KFK_NETWORK') {
    if (e.closed === true) return true; // 'Client is closed.' before the operation started
    return /^Connection to .+ (failed|timed out)\.$/.test(msg) || msg === 'Connection closed while waiting for ready.';
  }
  return false;
}

/**
 * A broker answer: the partition is rejected if its entry carries a definite code. A response that does not
 * mention the partition (or is not a produce response) proves nothing for it.
 */
function responseRejected(e: ErrorLike, topic: string, partition: number): boolean {
  const code = partitionErrorCode(e.response, topic, partition);
  if (code === undefined || code === 0) return false;
  const errors = Array.isArray(e.errors) ? (e.errors as ErrorLike[]) : [];
  const id = errors.find(
    (x) => x !== null && typeof x === 'object' && x.apiId !== undefined && codeMatches(x, code),
  )?.apiId;
  return typeof id === 'string' && DEFINITE_PRODUCE_ERRORS.has(id);
}

function codeMatches(e: ErrorLike, code: number): boolean {
  // ProtocolError keeps the numeric code as `apiCode`.
  return (e as { apiCode?: unknown }).apiCode === code;
}

function ackedPartitions(attempt: ErrorLike | undefined, topic: string): Set<number> {
  const out = new Set<number>();
  if (attempt === undefined || attempt.code !== 'PLT_KFK_RESPONSE') return out;
  for (const p of partitionResponses(attempt.response, topic)) if (p.errorCode === 0) out.add(p.index);
  return out;
}

function partitionErrorCode(response: unknown, topic: string, partition: number): number | undefined {
  for (const p of partitionResponses(response, topic)) if (p.index === partition) return p.errorCode;
  return undefined;
}

function partitionResponses(response: unknown, topic: string): { index: number; errorCode: number }[] {
  const r = response as { responses?: unknown } | null | undefined;
  if (r === null || typeof r !== 'object' || !Array.isArray(r.responses)) return [];
  const out: { index: number; errorCode: number }[] = [];
  for (const t of r.responses as { name?: unknown; partitionResponses?: unknown }[]) {
    if (t?.name !== topic || !Array.isArray(t.partitionResponses)) continue;
    for (const p of t.partitionResponses as { index?: unknown; errorCode?: unknown }[]) {
      if (typeof p?.index === 'number' && typeof p.errorCode === 'number')
        out.push({ index: p.index, errorCode: p.errorCode });
    }
  }
  return out;
}
